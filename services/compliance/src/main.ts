import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { loadComplianceConfig } from './config';

async function bootstrap(): Promise<void> {
  const config = loadComplianceConfig();
  // No HTTP here: the service speaks gRPC (GrpcServerHost) and Kafka (monitor consumer, outbox relay).
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), { logger: ['error', 'warn'] });
  app.enableShutdownHooks();
}

void bootstrap();
