/** Starts the insights app in-process against a throwaway database and per-run Kafka topic/group. */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { dropDatabase, ensureDatabase, migrate } from '@tessera/db';
import { Client } from 'pg';
import { AppModule } from '../../src/app.module';
import { insightsConfigSchema } from '../../src/config';
import { GrpcServerHost } from '../../src/platform/grpc-server.host';
import { startTestAuth, type TestAuth } from '@tessera/auth';

// In-process suites run plaintext explicitly (mTLS is covered by libs/grpc and the e2e platform).
process.env['TESSERA_GRPC_PLAINTEXT'] ??= 'true';

const ADMIN_URL = process.env['TESSERA_PG_ADMIN_URL'] ?? 'postgresql://tessera:tessera@127.0.0.1:55432/postgres';
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
  const dbName = `tessera_instest_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const url = new URL(ADMIN_URL);
  url.pathname = `/${dbName}`;
  await ensureDatabase(url.toString());
  await migrate(url.toString(), MIGRATIONS_DIR);
  const db = new Client({ connectionString: url.toString() });
  await db.connect();
  const auth = await startTestAuth();
  const config = insightsConfigSchema.parse({ INSIGHTS_GRPC_PORT: '0', INSIGHTS_DATABASE_URL: url.toString(), ...auth.env, ...env });
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
      await dropDatabase(ADMIN_URL, dbName);
      auth.close();
    },
  };
}
