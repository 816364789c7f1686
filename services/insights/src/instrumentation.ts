// Loaded with `node -r` before anything else so OpenTelemetry can patch grpc and pg first.
import { startTelemetry } from '@tessera/telemetry';

// No kafkajs instrumentation, as in the stream processor: the aggregates consumer traces each fetched batch itself
// (`@tessera/kafka` EventConsumer: one `process` span linked to the producers' spans) and its lag is a gauge of its
// own; the instrumentation's span and histogram sample per consumed message were ~12% of insights' CPU, and a third of
// its garbage, while it applied a backlog of aggregates (issue #11).
startTelemetry({ serviceName: 'insights', serviceVersion: process.env.npm_package_version ?? '0.1.0', kafkajs: false });
