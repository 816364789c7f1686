// Loaded with `node -r` before anything else so OpenTelemetry can patch grpc, pg and kafkajs first.
import { startTelemetry } from '@tessera/telemetry';

startTelemetry({ serviceName: 'insights', serviceVersion: process.env.npm_package_version ?? '0.1.0' });
