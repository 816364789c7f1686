/**
 * CRASH TEST (issue #3): the real transactions service as a child process, a stream of mutating calls over
 * gRPC, `kill -9` mid-stream, restart. Then: every acknowledged call exists exactly once; every committed
 * row has exactly one outbox event that reaches Kafka (counted by distinct event id, so the relay's
 * at-least-once duplicates are harmless); no event exists for a call that did not commit.
 *
 * Uses OpenAccount, which commits account + idempotency key + audit record + AccountOpened outbox row in
 * one transaction (the same shape as CreateTransfer).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import path from 'node:path';
import { paymentsV1, commonV1 } from '@tessera/contracts';
import { createKafka } from '@tessera/kafka';
import { checkHealth, createGrpcClient, unaryCall } from '@tessera/grpc';
import { createLogger } from '@tessera/telemetry';
import { logLevel } from 'kafkajs';
import { throwawayDb, type ThrowawayDb } from './support/throwaway-db';

jest.setTimeout(240_000);

const ROOT = path.resolve(__dirname, '../../..');
const DIST = path.join(ROOT, 'services/transactions/dist');
const TOPIC = 'payments.transfer.events.v1';
const brokers = process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092';
const run = randomUUID().slice(0, 8);
const logger = createLogger('crash-test', { level: 'fatal' });

let db: ThrowawayDb;
let child: ChildProcess | undefined;
let port: number;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function startService(): Promise<ChildProcess> {
  const proc = spawn(process.execPath, ['-r', path.join(DIST, 'instrumentation.js'), path.join(DIST, 'main.js')], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      TRANSACTIONS_GRPC_PORT: String(port),
      TRANSACTIONS_DATABASE_URL: db.url,
      TRANSACTIONS_DB_POOL_MAX: '10',
      TRANSACTIONS_PINGS_GROUP: `transactions.pings-crash-${run}`,
      TRANSACTIONS_OUTBOX_POLL_MS: '20',
      KAFKA_BROKERS: brokers,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`transactions exited with ${proc.exitCode}`);
    const status = await checkHealth(`127.0.0.1:${port}`, 'tessera.payments.v1.AccountService', { timeoutMs: 500 }).catch(() => 'DOWN');
    if (status === 'SERVING') return proc;
    if (Date.now() > deadline) throw new Error('transactions did not become healthy');
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function until(predicate: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  execFileSync('npx', ['tsc', '-b', 'services/transactions/tsconfig.app.json'], { cwd: ROOT, stdio: 'inherit' });
  db = await throwawayDb('crash');
  port = await freePort();
  const admin = createKafka({ clientId: `crash-admin-${run}`, brokers: brokers.split(','), logger, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  if (!(await admin.listTopics()).includes(TOPIC)) {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: TOPIC, numPartitions: 6, replicationFactor: 1 }] });
  }
  await admin.disconnect();
});

afterAll(async () => {
  child?.kill('SIGKILL');
  await db?.drop();
});

describe('transactions service under kill -9', () => {
  it('loses no acknowledged call, duplicates none, and publishes exactly the committed events', async () => {
    const kafka = createKafka({ clientId: `crash-test-${run}`, brokers: brokers.split(','), logger, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const startOffsets = await admin.fetchTopicOffsets(TOPIC);
    await admin.disconnect();

    // Consume from the offsets as they were before the run; other suites may publish too, so our
    // events are told apart by owner id prefix.
    const seen = new Map<string, { subject: string; ownerId: string }>();
    let duplicates = 0;
    const consumer = kafka.consumer({ groupId: `test.crash-${run}` });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const envelope = commonV1.EventEnvelope.decode(message.value ?? Buffer.alloc(0));
        if (envelope.type !== 'tessera.payments.v1.AccountOpened') return;
        const ownerId = paymentsV1.AccountOpened.decode(envelope.data).account?.ownerId ?? '';
        if (!ownerId.startsWith(`crash-${run}-`)) return;
        if (seen.has(envelope.id)) duplicates++;
        seen.set(envelope.id, { subject: envelope.subject, ownerId });
      },
    });
    for (const { partition, offset } of startOffsets) consumer.seek({ topic: TOPIC, partition, offset });

    child = await startService();
    const client = createGrpcClient(paymentsV1.AccountServiceClient, `127.0.0.1:${port}`, { retry: 'none', defaultDeadlineMs: 5_000 });
    const acked = new Map<string, string>(); // idempotency key -> account id
    const unknown: string[] = []; // calls that failed in flight: may or may not have committed
    let stop = false;
    let n = 0;
    const worker = async () => {
      while (!stop) {
        const key = `crash-${run}-${n++}`;
        try {
          const res = await unaryCall(client, 'openAccount', paymentsV1.OpenAccountRequest.fromPartial({
            idempotencyKey: key, ownerId: key, name: 'crash', type: paymentsV1.AccountType.ACCOUNT_TYPE_ASSET, currency: 'EUR', overdraftLimitMinor: 0n, labels: {},
          }));
          acked.set(key, res.account?.id ?? '');
        } catch {
          unknown.push(key);
          if (stop) return;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    await until(async () => acked.size >= 150, 60_000);
    child.kill('SIGKILL');
    await new Promise<void>((resolve) => child?.once('exit', () => resolve()));
    const ackedAtKill = acked.size;
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await Promise.all(workers);
    client.close();

    child = await startService();
    const unsent = async () => Number((await db.client.query<{ n: string }>('SELECT count(*) AS n FROM outbox_events WHERE sent_at IS NULL')).rows[0]?.n);
    await until(async () => (await unsent()) === 0);

    // 1. every acknowledged call exists exactly once
    const { rows: accounts } = await db.client.query<{ id: string; owner_id: string }>('SELECT id, owner_id FROM accounts');
    const byOwner = new Map<string, string[]>();
    for (const a of accounts) byOwner.set(a.owner_id, [...(byOwner.get(a.owner_id) ?? []), a.id]);
    for (const [key, id] of acked) expect(byOwner.get(key)).toEqual([id]);
    for (const ids of byOwner.values()) expect(ids).toHaveLength(1);

    // 2. every committed row has exactly one outbox row and one audit record
    const { rows: outbox } = await db.client.query<{ id: string; key: string }>('SELECT id, key FROM outbox_events');
    expect(outbox.map((o) => o.key).sort()).toEqual(accounts.map((a) => a.id).sort());
    const { rows: audits } = await db.client.query<{ n: string }>(`SELECT count(DISTINCT entity_id) AS n FROM audit_records WHERE action = 'account.opened'`);
    expect(Number(audits[0]?.n)).toBe(accounts.length);

    // 3. Kafka: distinct event ids == committed rows, and none for anything that did not commit
    await until(async () => seen.size >= outbox.length, 60_000);
    await new Promise((r) => setTimeout(r, 1000));
    await consumer.disconnect();
    expect([...seen.keys()].sort()).toEqual(outbox.map((o) => o.id).sort());
    const committedIds = new Set(accounts.map((a) => a.id));
    for (const event of seen.values()) expect(committedIds.has(event.subject)).toBe(true);

    // 4. the audit chain written across the crash still verifies, over the service's own AuditService
    const auditClient = createGrpcClient(paymentsV1.AuditServiceClient, `127.0.0.1:${port}`, { retry: 'none', defaultDeadlineMs: 10_000 });
    const verified = await unaryCall(auditClient, 'verifyAuditChain', {});
    auditClient.close();
    expect(verified).toMatchObject({ valid: true, recordsChecked: BigInt(accounts.length), firstInvalidSeq: 0n });

    process.stdout.write(
      `crash test: ${ackedAtKill} acknowledged before kill -9, ${unknown.length} calls failed in flight, ${accounts.length} committed, ` +
        `${seen.size} distinct events on Kafka, ${duplicates} duplicate deliveries\n`,
    );
    expect(acked.size).toBeGreaterThanOrEqual(150);
  });
});
