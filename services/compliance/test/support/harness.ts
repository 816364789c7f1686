/** Starts the compliance app in-process against a throwaway database; shared by the integration suites. */
import 'reflect-metadata';
import path from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { throwawayDatabase } from '@tessera/testing';
import { Client } from 'pg';
import { AppModule } from '../../src/app.module';
import { complianceConfigSchema } from '../../src/config';
import { GrpcServerHost } from '../../src/platform/grpc-server.host';
import { startTestAuth } from '@tessera/auth';

// In-process suites run plaintext explicitly (design: mTLS is covered by libs/grpc and the e2e platform).
process.env['TESSERA_GRPC_PLAINTEXT'] ??= 'true';

const MIGRATIONS_DIR = path.resolve(__dirname, '../../prisma/migrations');

export interface Harness {
  app: INestApplicationContext;
  db: Client;
  addr: string;
  close(): Promise<void>;
}

export async function startCompliance(env: Record<string, string>): Promise<Harness> {
  const database = await throwawayDatabase('tessera_cmptest', MIGRATIONS_DIR);
  const url = database.url;
  const db = new Client({ connectionString: url });
  await db.connect();
  // Suites that make no authenticated calls still need a verifier to boot; they get a throwaway issuer.
  const ownAuth = env['TESSERA_AUTH_JWKS_FILE'] ? undefined : await startTestAuth();
  const config = complianceConfigSchema.parse({
    COMPLIANCE_GRPC_PORT: '0',
    COMPLIANCE_DATABASE_URL: url,
    COMPLIANCE_OUTBOX_POLL_MS: '100',
    ...ownAuth?.env,
    ...env,
  });
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), { logger: ['error', 'warn'] });
  await app.init();
  const addr = `127.0.0.1:${app.get(GrpcServerHost).port}`;
  return {
    app,
    db,
    addr,
    close: async () => {
      await app.close();
      await db.end();
      await database.drop();
      ownAuth?.close();
    },
  };
}
