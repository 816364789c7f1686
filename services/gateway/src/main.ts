import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLogger } from '@tessera/telemetry';
import { AppModule } from './app.module';
import { loadGatewayConfig } from './config';

async function bootstrap(): Promise<void> {
  const config = loadGatewayConfig();
  const logger = createLogger('gateway');
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config),
    new FastifyAdapter({ bodyLimit: config.GATEWAY_BODY_LIMIT_BYTES }),
    { bufferLogs: false, logger: ['error', 'warn'] },
  );
  app.enableShutdownHooks();
  await app.listen(config.GATEWAY_HTTP_PORT, config.GATEWAY_HTTP_HOST);
  logger.info({ port: config.GATEWAY_HTTP_PORT }, 'gateway listening');
}

void bootstrap();
