/**
 * THE AUDIT CHAIN ANCHORED (issue #13): the real transactions service publishes signed checkpoints of the chain's head
 * to its own Kafka topic, and VerifyAuditChain holds the database against the newest one. The chain's own hashes find
 * an edit or a deletion in the middle; emptying the table (or removing its newest records) leaves a chain that is valid
 * in itself, which only the anchor reveals.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { paymentsV1 } from '@tessera/contracts';
import { createGrpcClient, unaryCall } from '@tessera/grpc';
import { Kafka, logLevel } from 'kafkajs';
import { sendAs, staffAuthorization } from './support/auth-client';
import { type ServiceUnderTest, startServiceUnderTest } from './support/service-under-test';
import { kafkaSecurityFromEnv } from '@tessera/kafka';

jest.setTimeout(120_000);

let svc: ServiceUnderTest;
let audit: paymentsV1.AuditServiceClient;
const kafka = new Kafka({
  ...kafkaSecurityFromEnv(),
  clientId: 'checkpoints-test',
  brokers: [process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092'],
  logLevel: logLevel.NOTHING,
});

beforeAll(async () => {
  svc = await startServiceUnderTest('checkpoints', { env: { TRANSACTIONS_AUDIT_CHECKPOINT_MS: '200' } });
  audit = createGrpcClient(paymentsV1.AuditServiceClient, svc.address, {
    retry: 'none',
    defaultDeadlineMs: 30_000,
    ...sendAs(await staffAuthorization(svc.auth)),
  });
});

afterAll(async () => {
  audit?.close();
  await svc?.stop();
});

/** Checkpoints published so far on the service's topic (service-process.ts names it after the database). */
async function checkpointsPublished(): Promise<number> {
  const topic = `test.audit-checkpoints.${path.basename(svc.db.url.split('?')[0] ?? '')}`;
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) return 0;
    const [p] = await admin.fetchTopicOffsets(topic);
    return Number(p?.high ?? 0) - Number(p?.low ?? 0);
  } finally {
    await admin.disconnect();
  }
}

it('reports an emptied chain as truncated at its newest signed checkpoint, where the chain alone verified', async () => {
  for (let i = 0; i < 3; i++) {
    await unaryCall(svc.accounts, 'openAccount', {
      idempotencyKey: `cp-${randomUUID()}`,
      ownerId: 'checkpoints',
      name: 'cp',
      type: paymentsV1.AccountType.ACCOUNT_TYPE_ASSET,
      currency: 'EUR',
      overdraftLimitMinor: 0n,
      labels: {},
    });
  }
  const deadline = Date.now() + 30_000;
  while ((await checkpointsPublished()) === 0) {
    if (Date.now() > deadline) throw new Error('no audit checkpoint published within 30 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  const before = await unaryCall(audit, 'verifyAuditChain', {});
  expect(before).toMatchObject({ valid: true, failureReason: '' });

  // What the append-only triggers refuse, done by someone who can disable them (the tables' owner).
  await svc.db.client.query('ALTER TABLE audit_records DISABLE TRIGGER USER');
  try {
    await svc.db.client.query('DELETE FROM audit_records');
  } finally {
    await svc.db.client.query('ALTER TABLE audit_records ENABLE TRIGGER USER');
  }
  const after = await unaryCall(audit, 'verifyAuditChain', {});
  expect(after.valid).toBe(false);
  expect(after.failureReason).toMatch(/^truncated: record \d+ of the signed checkpoint taken at .* is missing \(the chain ends at 0\)$/);
  expect(after.firstInvalidSeq).toBeGreaterThan(0n);
});
