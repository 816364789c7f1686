// Loaded with `node -r` before anything else so OpenTelemetry can patch kafkajs first.
import { startTelemetry } from '@tessera/telemetry';

// No kafkajs instrumentation: the processor traces its own batches (src/kafka/batch-trace.ts) and counts events by
// outcome (stream-processor.metrics.ts); per-message consumer spans and histogram samples cost ~7% of its CPU at
// 5,000 events/s for nothing the batch span does not already say.
startTelemetry({ serviceName: 'stream-processor', serviceVersion: process.env.npm_package_version ?? '0.1.0', kafkajs: false });
