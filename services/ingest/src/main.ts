import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { loadIngestConfig } from './config';

async function bootstrap(): Promise<void> {
  const config = loadIngestConfig();
  // No HTTP here: the gateway owns POST /v1/events; this process speaks gRPC in and Kafka out.
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), { logger: ['error', 'warn'] });
  app.enableShutdownHooks();
}

void bootstrap();
