// Loaded with `node -r` before anything else so OpenTelemetry can patch grpc and kafkajs first.
import { startTelemetry } from '@tessera/telemetry';

startTelemetry({ serviceName: 'ingest', serviceVersion: process.env.npm_package_version ?? '0.1.0' });
