// Loaded with `node -r` before anything else so OpenTelemetry can patch kafkajs first.
import { startTelemetry } from '@tessera/telemetry';

startTelemetry({ serviceName: 'stream-processor', serviceVersion: process.env.npm_package_version ?? '0.1.0' });
