import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { loadInsightsConfig } from './config';

async function bootstrap(): Promise<void> {
  const config = loadInsightsConfig();
  // No HTTP here: the service speaks gRPC (GrpcServerHost) and Kafka (AggregatesConsumer).
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), { logger: ['error', 'warn'] });
  app.enableShutdownHooks();
}

void bootstrap();
