// Loaded with `node -r` before anything else so OpenTelemetry can patch http, grpc and kafkajs first.
import { startTelemetry } from '@tessera/telemetry';

startTelemetry({ serviceName: 'gateway', serviceVersion: process.env.npm_package_version ?? '0.1.0' });
