import { stopOnSignals } from '@tessera/kafka';
import { createLogger, onComponentFailure } from '@tessera/telemetry';
import { createStreamProcessor } from './composition';
import { loadStreamProcessorConfig } from './config';

async function bootstrap(): Promise<void> {
  const config = loadStreamProcessorConfig();
  const logger = createLogger('StreamProcessorMain');
  const processor = createStreamProcessor(config);
  stopOnSignals([processor], logger);
  // No health endpoint to turn NOT_SERVING: a consumer kafkajs will not restart ends the process (exit 70) after a
  // clean stop, so `npm run infra -- status` and any supervisor see it instead of an idle "running" worker.
  onComponentFailure((failure) => {
    logger.error({ component: failure.component }, 'stopping the stream processor: a component stopped for good');
    process.exitCode = 70;
    process.kill(process.pid, 'SIGTERM');
  });
  await processor.start();
  logger.info({ group: config.STREAM_PROCESSOR_GROUP, raw: config.STREAM_PROCESSOR_RAW_TOPIC }, 'stream processor running');
}

bootstrap().catch((err: unknown) => {
  createLogger('StreamProcessorMain').error({ err }, 'stream processor failed to start');
  process.exit(1);
});
