/**
 * The transactions service in-process (its real Nest application context, gRPC server and Prisma client)
 * against a throwaway Postgres database; every call goes over a real gRPC socket.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { paymentsV1 } from '@tessera/contracts';
import { AppError } from '@tessera/errors';
import { checkHealth, createGrpcClient, unaryCall } from '@tessera/grpc';
import { deleteConsumerGroups, kafkaSecurityFromEnv } from '@tessera/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { AppModule } from '../src/app.module';
import { transactionsConfigSchema } from '../src/config';
import { sendAs, staffAuthorization } from './support/auth-client';
import { startTestAuth, type TestAuth } from '@tessera/auth';
import { freePort, throwawayDatabase, type ThrowawayDatabase } from '@tessera/testing';

jest.setTimeout(30_000);
process.env['LOG_LEVEL'] ??= 'warn';

const MIGRATIONS_DIR = path.resolve(__dirname, '../prisma/migrations');
const ACCOUNT_SERVICE = 'tessera.payments.v1.AccountService';
const PINGS_GROUP = `transactions.pings-test-${randomUUID().slice(0, 8)}`;

let db: Client;
let database: ThrowawayDatabase;
let auth: TestAuth;
let app: INestApplicationContext;
let client: paymentsV1.AccountServiceClient;
let addr: string;

async function count(sql: string, values: unknown[]): Promise<number> {
  const { rows } = await db.query<{ n: string }>(sql, values);
  return Number(rows[0]?.n);
}

async function rejection(p: Promise<unknown>): Promise<AppError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error instanceof AppError) return error;
  throw new Error(`expected an AppError, got ${String(error)}`);
}

function openRequest(overrides: Partial<paymentsV1.OpenAccountRequest> = {}): paymentsV1.OpenAccountRequest {
  return paymentsV1.OpenAccountRequest.fromPartial({
    idempotencyKey: `key-${randomUUID()}`,
    ownerId: `owner-${randomUUID()}`,
    name: 'Operating',
    type: paymentsV1.AccountType.ACCOUNT_TYPE_ASSET,
    currency: 'EUR',
    overdraftLimitMinor: 0n,
    labels: {},
    ...overrides,
  });
}

beforeAll(async () => {
  database = await throwawayDatabase('tessera_txtest', MIGRATIONS_DIR);
  const url = database.url;
  db = new Client({ connectionString: url });
  await db.connect();
  auth = await startTestAuth();
  const port = await freePort();
  addr = `127.0.0.1:${port}`;
  const config = transactionsConfigSchema.parse({
    ...auth.env,
    TRANSACTIONS_AUDIT_CHECKPOINT_MS: '0',
    TRANSACTIONS_GRPC_PORT: String(port),
    TRANSACTIONS_DATABASE_URL: url,
    TRANSACTIONS_PINGS_GROUP: PINGS_GROUP,
  });
  app = await NestFactory.createApplicationContext(AppModule.forRoot(config), { logger: ['error', 'warn'] });
  await app.init();
  client = createGrpcClient(paymentsV1.AccountServiceClient, addr, {
    retry: 'none',
    defaultDeadlineMs: 5_000,
    ...sendAs(await staffAuthorization(auth)),
  });
});

afterAll(async () => {
  client?.close();
  await app?.close();
  await deleteConsumerGroups(
    new Kafka({
      ...kafkaSecurityFromEnv(),
      clientId: 'accounts-test-cleanup',
      brokers: (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092').split(','),
      logLevel: logLevel.NOTHING,
    }),
    [PINGS_GROUP],
  );
  await db?.end();
  await database.drop();
  auth?.close();
});

describe('AccountService over gRPC', () => {
  describe('OpenAccount + GetAccount', () => {
    it('round-trips an account with an int64 overdraft beyond 2^53', async () => {
      const overdraft = 9_223_372_036_854_775_807n;
      const req = openRequest({
        type: paymentsV1.AccountType.ACCOUNT_TYPE_LIABILITY,
        currency: 'JPY',
        overdraftLimitMinor: overdraft,
        labels: { team: 'ops' },
      });
      const { account: opened } = await unaryCall(client, 'openAccount', req);
      expect(opened).toMatchObject({
        ownerId: req.ownerId,
        name: 'Operating',
        type: paymentsV1.AccountType.ACCOUNT_TYPE_LIABILITY,
        currency: 'JPY',
        status: paymentsV1.AccountStatus.ACCOUNT_STATUS_ACTIVE,
        overdraftLimitMinor: overdraft,
        version: 0n,
        labels: { team: 'ops' },
      });
      expect(opened?.id).toMatch(/^[0-9a-f-]{36}$/);
      const { account: read } = await unaryCall(client, 'getAccount', { accountId: opened!.id });
      expect(read).toEqual(opened);
      const { rows } = await db.query<{ overdraft: string }>(
        'SELECT overdraft_limit_minor::text AS overdraft FROM accounts WHERE id = $1',
        [opened!.id],
      );
      expect(rows).toEqual([{ overdraft: '9223372036854775807' }]);
    });
  });

  describe('OpenAccount idempotency', () => {
    it('opens exactly one account for ten concurrent identical requests', async () => {
      const req = openRequest({ labels: { a: '1', b: '2' } });
      const responses = await Promise.all(Array.from({ length: 10 }, () => unaryCall(client, 'openAccount', req)));
      const ids = new Set(responses.map((r) => r.account?.id));
      expect(ids.size).toBe(1);
      expect([...ids][0]).toBeDefined();
      await expect(count('SELECT count(*) AS n FROM accounts WHERE owner_id = $1', [req.ownerId])).resolves.toBe(1);
      await expect(count('SELECT count(*) AS n FROM idempotency_keys WHERE key = $1', [req.idempotencyKey])).resolves.toBe(1);
    });

    it('replays for the same request with labels in another order', async () => {
      const req = openRequest({ labels: { a: '1', b: '2' } });
      const first = await unaryCall(client, 'openAccount', req);
      const again = await unaryCall(client, 'openAccount', { ...req, labels: { b: '2', a: '1' } });
      expect(again.account?.id).toBe(first.account?.id);
    });

    it('refuses the same key with a different request', async () => {
      const req = openRequest();
      const first = await unaryCall(client, 'openAccount', req);
      const error = await rejection(unaryCall(client, 'openAccount', { ...req, currency: 'USD' }));
      expect(error).toMatchObject({ kind: 'FAILED_PRECONDITION', code: 'PAYMENTS.IDEMPOTENCY_KEY_REUSED' });
      await expect(count('SELECT count(*) AS n FROM accounts WHERE owner_id = $1', [req.ownerId])).resolves.toBe(1);
      await expect(count('SELECT count(*) AS n FROM accounts WHERE id = $1 AND currency = $2', [first.account?.id, 'EUR'])).resolves.toBe(
        1,
      );
    });
  });

  describe('validation', () => {
    it('names every invalid field and writes nothing', async () => {
      const req = openRequest({ currency: 'EURO', type: paymentsV1.AccountType.ACCOUNT_TYPE_UNSPECIFIED });
      const error = await rejection(unaryCall(client, 'openAccount', req));
      expect(error).toMatchObject({ kind: 'INVALID_ARGUMENT', code: 'PAYMENTS.INVALID_ACCOUNT_REQUEST' });
      expect(error.fieldViolations?.map((v) => v.field).sort()).toEqual(['currency', 'type']);
      await expect(count('SELECT count(*) AS n FROM accounts WHERE owner_id = $1', [req.ownerId])).resolves.toBe(0);
      await expect(count('SELECT count(*) AS n FROM idempotency_keys WHERE key = $1', [req.idempotencyKey])).resolves.toBe(0);
    });

    it('rejects a malformed id and reports an unknown one as NOT_FOUND', async () => {
      await expect(rejection(unaryCall(client, 'getAccount', { accountId: 'not-a-uuid' }))).resolves.toMatchObject({
        kind: 'INVALID_ARGUMENT',
        code: 'PAYMENTS.MALFORMED_ID',
        fieldViolations: [{ field: 'account_id', description: 'must be a UUID' }],
      });
      const unknown = randomUUID();
      await expect(rejection(unaryCall(client, 'getAccount', { accountId: unknown }))).resolves.toMatchObject({
        kind: 'NOT_FOUND',
        code: 'PAYMENTS.ACCOUNT_NOT_FOUND',
        metadata: { accountId: unknown },
      });
    });
  });

  describe('ListAccounts', () => {
    it('pages through seven accounts three at a time, each exactly once', async () => {
      const ownerId = `owner-${randomUUID()}`;
      const opened: string[] = [];
      for (let i = 0; i < 7; i++) {
        const { account } = await unaryCall(client, 'openAccount', openRequest({ ownerId, name: `acct-${i}` }));
        opened.push(account!.id);
      }
      const seen: string[] = [];
      const pageSizes: number[] = [];
      let pageToken = '';
      do {
        const res = await unaryCall(
          client,
          'listAccounts',
          paymentsV1.ListAccountsRequest.fromPartial({ ownerId, page: { pageSize: 3, pageToken } }),
        );
        pageSizes.push(res.accounts.length);
        seen.push(...res.accounts.map((a) => a.id));
        pageToken = res.page?.nextPageToken ?? '';
      } while (pageToken && pageSizes.length < 10);
      expect(pageSizes).toEqual([3, 3, 1]);
      expect(seen).toEqual(opened);
    });

    it('rejects a garbage page token', async () => {
      const req = paymentsV1.ListAccountsRequest.fromPartial({ page: { pageSize: 3, pageToken: 'garbage' } });
      await expect(rejection(unaryCall(client, 'listAccounts', req))).resolves.toMatchObject({
        kind: 'INVALID_ARGUMENT',
        code: 'PAYMENTS.INVALID_PAGE_TOKEN',
      });
    });
  });

  describe('health', () => {
    it('reports the server and AccountService (database reachable) as SERVING', async () => {
      await expect(checkHealth(addr, '', { timeoutMs: 2_000 })).resolves.toBe('SERVING');
      await expect(checkHealth(addr, ACCOUNT_SERVICE, { timeoutMs: 2_000 })).resolves.toBe('SERVING');
    });
  });
});
