import { stopOnSignals } from '@tessera/kafka';
import { createLogger } from '@tessera/telemetry';
import { createStreamProcessor } from './composition';
import { loadStreamProcessorConfig } from './config';

async function bootstrap(): Promise<void> {
  const config = loadStreamProcessorConfig();
  const logger = createLogger('StreamProcessorMain');
  const processor = createStreamProcessor(config);
  stopOnSignals([processor], logger);
  await processor.start();
  logger.info({ group: config.STREAM_PROCESSOR_GROUP, raw: config.STREAM_PROCESSOR_RAW_TOPIC }, 'stream processor running');
}

bootstrap().catch((err: unknown) => {
  createLogger('StreamProcessorMain').error({ err }, 'stream processor failed to start');
  process.exit(1);
});
