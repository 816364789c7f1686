/**
 * The workshop labs cannot rot (docs/workshops, tools/labs): on a payments platform of this test's own (real
 * processes, mTLS, real tokens, its own transfer-events topic, admin ports and Zipkin), each lab's checker first refuses
 * an attempt that has not done the lab, then the lab's scripted solution (`npm run lab -- solve <n>`: the steps the lab
 * tells the learner to take) runs, and the same checker passes it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kafkaSecurityFromEnv } from '@tessera/kafka';
import { Kafka, logLevel } from 'kafkajs';
/* eslint-disable @nx/enforce-module-boundaries -- infra/local and tools/labs are repo tooling, not Nx projects: the test starts a Zipkin of its own and runs the labs' checks */
import { loadTopology, type Topology } from '../../infra/local/topology';
import { LocalZipkin } from '../../infra/local/zipkin';
import type { Finding, Lab } from '../../tools/labs/src/lab-kit';
import { lab1 } from '../../tools/labs/src/lab1-follow-a-transfer';
import { lab2 } from '../../tools/labs/src/lab2-compliance-rule';
import { lab3 } from '../../tools/labs/src/lab3-poison-and-dlq';
import { lab4 } from '../../tools/labs/src/lab4-break-and-hold';
import type { LabTarget } from '../../tools/labs/src/target';
/* eslint-enable @nx/enforce-module-boundaries */
import { startPaymentsPlatform, type PaymentsPlatform } from './support/payments-platform';

jest.setTimeout(180_000);

const PORTS = { platform: 18900, transactionsAdmin: 18906, complianceAdmin: 18907, zipkin: 19412 };
const run = randomBytes(3).toString('hex');
const topic = `e2e.lab-${run}.payments.transfer.events.v1`;
const dir = mkdtempSync(join(tmpdir(), 'tessera-workshops-'));
const adminToken = randomBytes(24).toString('base64url');
const kafka = new Kafka({
  ...kafkaSecurityFromEnv(),
  clientId: 'e2e-workshops',
  brokers: (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092').split(','),
  logLevel: logLevel.NOTHING,
});

let zipkin: LocalZipkin;
let platform: PaymentsPlatform;
let target: LabTarget;

beforeAll(async () => {
  const base = loadTopology();
  const topo: Topology = {
    ...base,
    stateDir: '.tessera/e2e/workshops',
    observability: { ...base.observability, zipkin: { ...base.observability.zipkin, port: PORTS.zipkin } },
  };
  zipkin = new LocalZipkin(topo);
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      { topic, numPartitions: 3 },
      { topic: `${topic}.dlq`, numPartitions: 1 },
    ],
    waitForLeaders: true,
  });
  await admin.disconnect();
  writeFileSync(join(dir, 'admin-token'), `${adminToken}\n`, { mode: 0o600 });
  await zipkin.up(90_000, () => undefined);
  platform = await startPaymentsPlatform(PORTS.platform, {
    env: {
      GATEWAY_RATE_LIMITS: 'write=100000/60s,read=100000/60s',
      TRANSACTIONS_TRANSFER_EVENTS_TOPIC: topic,
      COMPLIANCE_TRANSFER_EVENTS_TOPIC: topic,
      TRANSACTIONS_METRICS_PORT: String(PORTS.transactionsAdmin),
      COMPLIANCE_METRICS_PORT: String(PORTS.complianceAdmin),
      TESSERA_ADMIN_TOKEN_FILE: join(dir, 'admin-token'),
      OTEL_TRACES_EXPORTER: 'otlp,zipkin',
      OTEL_EXPORTER_ZIPKIN_ENDPOINT: `${zipkin.baseUrl}/api/v2/spans`,
    },
  });
  target = {
    gateway: platform.gateway,
    bearer: (sub, roles) => platform.creds.bearer({ sub, roles }),
    databases: platform.urls,
    zipkin: zipkin.baseUrl,
    admin: { transactions: `http://127.0.0.1:${PORTS.transactionsAdmin}`, compliance: `http://127.0.0.1:${PORTS.complianceAdmin}` },
    adminToken,
    kafka,
    transferEventsTopic: topic,
    monitorGroup: platform.groups.monitor,
    restart: (service, env) => platform.restart(service, env),
    stateDir: dir,
    rulesDir: dir,
    // Lab 5 runs in the generator's test (tools/plugin/test), on the service it generates into a copy.
    generatedService: () => undefined,
  };
}, 240_000);

afterAll(async () => {
  await platform?.stop();
  await zipkin?.down(() => undefined);
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic, `${topic}.dlq`] }).catch(() => undefined);
  await admin.disconnect();
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

const failed = (findings: Finding[]) => findings.filter((f) => !f.ok);

async function refusedThenSolved(lab: Lab, wrong: Record<string, string> = {}): Promise<Record<string, string>> {
  expect(failed(await lab.check(target, wrong)).length).toBeGreaterThan(0);
  const flags = await lab.solve(target, () => undefined);
  expect(failed(await lab.check(target, flags))).toEqual([]);
  return flags;
}

it('lab 1: follow a transfer through its trace and audit records', async () => {
  const flags = await refusedThenSolved(lab1);
  // A wrong answer to one question is told apart from the right ones.
  const wrong = await lab1.check(target, { ...flags, decision: flags['decision'] === 'APPROVE' ? 'DECLINE' : 'APPROVE' });
  expect(failed(wrong).map((f) => f.what)).toEqual([expect.stringContaining('is not what compliance decided')]);
  const partial = await lab1.check(target, { ...flags, services: 'gateway' });
  expect(failed(partial).map((f) => f.what)).toEqual([expect.stringContaining('the request passed through')]);
});

it('lab 3: break a consumer with a poison message and recover it from the DLQ', async () => {
  await refusedThenSolved(lab3);
});

it('lab 4: kill a service under load and watch the guarantees hold', async () => {
  await refusedThenSolved(lab4);
});

// Last: it leaves compliance on the learner's rule set until restarted.
it('lab 2: add a compliance rule and see it decide', async () => {
  const before = await lab2.check(target, {});
  expect(failed(before).length).toBeGreaterThan(0);
  const flags = await lab2.solve(target, () => undefined);
  expect(failed(await lab2.check(target, flags))).toEqual([]);
  await platform.restart('compliance');
});
