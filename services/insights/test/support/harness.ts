/** Starts the insights app in-process against a throwaway database and per-run Kafka topic/group. */
import 'reflect-metadata';
import path from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { throwawayDatabase } from '@tessera/testing';
import { Client } from 'pg';
import { AppModule } from '../../src/app.module';
import { insightsConfigSchema } from '../../src/config';
import { GrpcServerHost } from '../../src/platform/grpc-server.host';
import { startTestAuth, type TestAuth } from '@tessera/auth';

// In-process suites run plaintext explicitly (mTLS is covered by libs/grpc and the e2e platform).
process.env['TESSERA_GRPC_PLAINTEXT'] ??= 'true';

const MIGRATIONS_DIR = path.resolve(__dirname, '../../prisma/migrations');

export interface Harness {
  app: INestApplicationContext;
  db: Client;
  addr: string;
  /** The throwaway dev issuer the service verifies tokens and API keys against. */
  auth: TestAuth;
  close(): Promise<void>;
}

export async function startInsights(env: Record<string, string>): Promise<Harness> {
  const database = await throwawayDatabase('tessera_instest', MIGRATIONS_DIR);
  const url = database.url;
  const db = new Client({ connectionString: url });
  await db.connect();
  const auth = await startTestAuth();
  const config = insightsConfigSchema.parse({ INSIGHTS_GRPC_PORT: '0', INSIGHTS_DATABASE_URL: url, ...auth.env, ...env });
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), { logger: ['error', 'warn'] });
  await app.init();
  const addr = `127.0.0.1:${app.get(GrpcServerHost).port}`;
  return {
    app,
    db,
    addr,
    auth,
    close: async () => {
      await app.close();
      await db.end();
      await database.drop();
      auth.close();
    },
  };
}
