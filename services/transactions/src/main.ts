import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { loadTransactionsConfig } from './config';

async function bootstrap(): Promise<void> {
  const config = loadTransactionsConfig();
  // No HTTP here: the service speaks gRPC (started by GrpcServerHost) and Kafka.
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), { logger: ['error', 'warn'] });
  app.enableShutdownHooks();
}

void bootstrap();
