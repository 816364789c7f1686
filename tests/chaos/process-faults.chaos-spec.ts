/**
 * Chaos scenarios on the payment services' processes under transfer load (issue #14, scenarios 1 and 4):
 * kill -9 of transactions and of compliance mid-load, several times, each started again by the test; and a gray
 * failure, transactions frozen with SIGSTOP for longer than the gateway's deadline, then SIGCONT. Every client retries
 * its Idempotency-Key; afterwards nothing is lost, duplicated or left unsettled and every invariant holds. Then
 * scenario 5 for compliance's monitor: poison on its transfer-events topic is dead-lettered and replayable. And the runtime
 * fault toggles, switched over the services' authenticated admin ports under the same load: a flaky database, failing
 * screening, slow gRPC handlers and failing Kafka sends, each visible in the metrics, none losing or doubling a transfer.
 *
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { analyticsV1, commonV1, eventTypeName, paymentsV1 } from '@tessera/contracts';
import {
  buildEnvelope,
  createProducer,
  encodeEnvelope,
  kafkaSecurityFromEnv,
  readTopicSnapshot,
  replayDlq,
  summariseDeadLetter,
} from '@tessera/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { startPaymentsPlatform, type PaymentsPlatform } from '../e2e/support/payments-platform';
import { waitFor } from '../e2e/support/platform';
// eslint-disable-next-line @nx/enforce-module-boundaries -- infra/local is repo tooling, not an Nx project: the toggles are switched with `npm run infra -- faults`' own code
import { faultsCommand } from '../../infra/local/faults';
import type { Invariant } from './support/invariants';
import { groupLag } from './support/lag';
import { writeScenarioResult } from './support/report';
import { CHAOS_PAYMENTS_ENV, runPaymentsScenario } from './support/scenario';

jest.setTimeout(240_000);

let platform: PaymentsPlatform;
/** The services' admin ports (fault toggles, /metrics) and the admin token they accept. */
const ADMIN = { transactions: 'http://127.0.0.1:18386', compliance: 'http://127.0.0.1:18387' } as const;
const adminDir = mkdtempSync(join(tmpdir(), 'tessera-chaos-admin-'));
const adminToken = randomBytes(24).toString('base64url');

beforeAll(async () => {
  writeFileSync(join(adminDir, 'admin-token'), `${adminToken}\n`, { mode: 0o600 });
  platform = await startPaymentsPlatform(18380, {
    env: {
      ...CHAOS_PAYMENTS_ENV,
      TRANSACTIONS_METRICS_PORT: new URL(ADMIN.transactions).port,
      COMPLIANCE_METRICS_PORT: new URL(ADMIN.compliance).port,
      TESSERA_ADMIN_TOKEN_FILE: join(adminDir, 'admin-token'),
    },
  });
}, 180_000);

afterAll(async () => {
  await platform?.stop();
  rmSync(adminDir, { recursive: true, force: true });
}, 120_000);

const pidOf = (name: string) => platform.services.find((s) => s.name === name)?.process;

it('survives kill -9 of transactions and compliance, twice each, with every transfer exactly once', async () => {
  const { load, invariants } = await runPaymentsScenario({
    name: 'kill-9-payments',
    platform,
    clients: 6,
    loadMs: 36_000,
    fault: async (elapsed) => {
      const done: string[] = [];
      for (const [at, name] of [
        [4_000, 'transactions'],
        [12_000, 'compliance'],
        [20_000, 'transactions'],
        [28_000, 'compliance'],
      ] as const) {
        await sleep(Math.max(0, at - elapsed()));
        pidOf(name)?.kill('SIGKILL');
        const killedAt = elapsed();
        await sleep(1500);
        await platform.restart(name);
        done.push(`kill -9 ${name} at ${(killedAt / 1000).toFixed(1)} s, serving again at ${(elapsed() / 1000).toFixed(1)} s`);
      }
      return done;
    },
  });
  expect(invariants.filter((i) => !i.ok)).toEqual([]);
  expect(load.statuses['500'] ?? 0).toBe(0);
  expect(load.unavailableWithoutRetryAfter).toBe(0);
  expect(load.operations.some((o) => o.retried.length > 0)).toBe(true); // the kills were felt
});

it('rides out a frozen transactions process (SIGSTOP past the deadline, then SIGCONT) with nothing posted twice', async () => {
  const { load, invariants } = await runPaymentsScenario({
    name: 'sigstop-transactions',
    platform,
    clients: 6,
    loadMs: 24_000,
    // Short client timeouts: a request the frozen process holds is abandoned and retried with its key (the gray
    // failure's worst case: the first attempt may still commit when the process wakes).
    requestTimeoutMs: 4_000,
    fault: async (elapsed) => {
      await sleep(5_000);
      const child = pidOf('transactions');
      child?.kill('SIGSTOP');
      const stoppedAt = elapsed();
      await sleep(9_000);
      child?.kill('SIGCONT');
      return [`SIGSTOP transactions at ${(stoppedAt / 1000).toFixed(1)} s`, `SIGCONT at ${(elapsed() / 1000).toFixed(1)} s`];
    },
  });
  expect(invariants.filter((i) => !i.ok)).toEqual([]);
  expect(load.statuses['500'] ?? 0).toBe(0);
  expect(load.operations.some((o) => o.retried.length > 0)).toBe(true); // callers' deadlines fired
});

/**
 * Scenario 5 for one consumer of the payment services: on this run's own copy of its topic (so no other consumer of the
 * shared topic sees the poison), a garbage record, a valid envelope of its type carrying another contract, then valid
 * events; the service restarted onto that topic. Both poison records are dead-lettered once with a reason, the valid
 * events after them are handled, and the letters replayed to the topic come back to the DLQ.
 */
async function poisonConsumer(o: {
  service: 'compliance' | 'transactions';
  topicEnv: string;
  topicName: string;
  group: string;
  /** The consumer's type, and valid events of it. */
  type: string;
  valid: ReturnType<typeof buildEnvelope>[];
  /** How many of the valid events the service has handled (read from its database). */
  handled: (ids: string[]) => Promise<number>;
}): Promise<Invariant[]> {
  const topic = `e2e.${platform.run}.${o.topicName}`;
  const dlq = `${topic}.dlq`;
  const kafka = new Kafka({
    ...kafkaSecurityFromEnv(),
    clientId: 'chaos-poison',
    brokers: (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092').split(','),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic, numPartitions: 3 },
        { topic: dlq, numPartitions: 1 },
      ],
    });
    const other = analyticsV1.AnalyticsEvent.encode(
      analyticsV1.AnalyticsEvent.fromPartial({ tenantId: 'demo', eventId: 'poison', value: 1 }),
    ).finish();
    const incompatible = buildEnvelope({ type: o.type, subject: 'poison', data: other }, 'chaos-poison', {});
    const producer = createProducer(kafka);
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: [
        { key: 'poison', value: Buffer.from('not an envelope \u0000\u00ff', 'latin1') },
        { key: 'poison', value: encodeEnvelope(incompatible) },
        ...o.valid.map((e) => ({ key: e.subject, value: encodeEnvelope(e) })),
      ],
    });
    await producer.disconnect();

    await platform.restart(o.service, { [o.topicEnv]: topic });
    const ids = o.valid.map((e) => e.id);
    await waitFor(
      `${o.service} past the poison`,
      async () => (await o.handled(ids)) === ids.length && (await groupLag(admin, o.group, topic)) === 0,
      90_000,
    );
    const letters = async () => {
      const out: ReturnType<typeof summariseDeadLetter>[] = [];
      await readTopicSnapshot(kafka, dlq, 'chaos-verify.', (m) => out.push(summariseDeadLetter(m.headers)));
      return out;
    };
    const first = await letters();
    const replay = await replayDlq({ kafka, dlqTopic: dlq, groupPrefix: 'chaos-verify.' });
    await waitFor(
      'the replayed letters dead-lettered again',
      async () => (await letters()).length === 4 && (await groupLag(admin, o.group, topic)) === 0,
      90_000,
    );
    const handled = await o.handled(ids);
    return [
      {
        name: `${o.service}: both poison records dead-lettered once, with a reason and the group`,
        ok:
          first.length === 2 &&
          first.every((l) => l.reason !== '' && l.errorCode !== '' && l.consumerGroup === o.group && l.originalTopic === topic),
        detail: first.map((l) => `${l.errorCode}: ${l.reason.slice(0, 90)}`).join('; ') || 'no letters',
      },
      {
        name: `${o.service}: the valid events after the poison were handled (the consumer kept going)`,
        ok: handled === ids.length,
        detail: `${handled} of ${ids.length} handled`,
      },
      {
        name: `${o.service}: replayed letters come back to the DLQ (poison stays poison, nothing crashes)`,
        ok: replay.replayed === 2,
        detail: `${replay.replayed} replayed; ${JSON.stringify(replay.byCause)}`,
      },
    ];
  } finally {
    await platform.restart(o.service);
    await admin.deleteTopics({ topics: [topic, dlq] }).catch(() => undefined);
    await admin.disconnect();
  }
}

it('dead-letters garbage and schema-incompatible records on every topic the payment services consume, keeps going, and replays them', async () => {
  const auditor = await platform.creds.bearer({ sub: `chaos-auditor-${platform.run}`, roles: ['auditor'] });
  const verify = async () =>
    (await fetch(`${platform.gateway}/v1/audit/verify`, { headers: auditor })).json() as Promise<{
      valid: boolean;
      failureReason: string | null;
    }>;

  // The audit anchor (this run's checkpoint topic, read back by GET /v1/audit/verify): a record that is not a signed
  // checkpoint is a finding for the auditor, not a 500 or an outage; the next checkpoint (a restart publishes the head)
  // makes the anchor vouch again.
  const kafka = new Kafka({
    ...kafkaSecurityFromEnv(),
    clientId: 'chaos-poison',
    brokers: (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092').split(','),
    logLevel: logLevel.NOTHING,
  });
  const producer = createProducer(kafka);
  await producer.connect();
  await producer.send({
    topic: `e2e.audit-checkpoints.${platform.run}`,
    acks: -1,
    messages: [{ key: 'head', value: Buffer.from('not a checkpoint \u0000', 'latin1') }],
  });
  await producer.disconnect();
  const poisoned = await verify();
  await platform.restart('transactions');
  let healed = await verify();
  for (let i = 0; i < 20 && !healed.valid; i++) healed = await sleep(500).then(verify);
  const anchor: Invariant[] = [
    {
      name: 'audit anchor: a record that is not a signed checkpoint is reported as a finding',
      ok: !poisoned.valid && /not a signed audit checkpoint/.test(poisoned.failureReason ?? ''),
      detail: `valid ${poisoned.valid}: ${poisoned.failureReason}`,
    },
    {
      name: 'audit anchor: the next checkpoint vouches for the chain again',
      ok: healed.valid,
      detail: `valid ${healed.valid} ${healed.failureReason ?? ''}`,
    },
  ];

  const transfer = (i: number) => {
    const t = paymentsV1.Transfer.fromPartial({
      id: randomUUID(),
      sourceAccountId: randomUUID(),
      destinationAccountId: randomUUID(),
      amount: { amountMinor: String(100 + i), currency: 'EUR' },
      status: paymentsV1.TransferStatus.TRANSFER_STATUS_POSTED,
      createdAt: new Date(),
      postedAt: new Date(),
    });
    return buildEnvelope(
      {
        type: eventTypeName.TransferCreated,
        subject: t.id,
        message: paymentsV1.TransferCreated.fromPartial({ transfer: t }),
        codec: paymentsV1.TransferCreated,
      },
      'chaos-poison',
      {},
    );
  };
  const ping = (i: number) => {
    const id = randomUUID(); // as the gateway does: the envelope id is the ping id
    return buildEnvelope(
      {
        id,
        type: eventTypeName.Ping,
        subject: id,
        message: commonV1.Ping.fromPartial({ id, message: `chaos ${i}`, sentAt: new Date() }),
        codec: commonV1.Ping,
      },
      'chaos-poison',
      {},
    );
  };
  const count = (client: typeof platform.tx, sql: string) => async (ids: string[]) =>
    Number((await client.query<{ n: string }>(sql, [ids])).rows[0]?.n ?? 0);
  const compliance = await poisonConsumer({
    service: 'compliance',
    topicEnv: 'COMPLIANCE_TRANSFER_EVENTS_TOPIC',
    topicName: 'payments.transfer.events.v1',
    group: platform.groups.monitor,
    type: eventTypeName.TransferCreated,
    valid: Array.from({ length: 10 }, (_, i) => transfer(i)),
    handled: count(platform.co, 'SELECT count(*)::text AS n FROM processed_events WHERE event_id = ANY($1)'),
  });
  const pings = await poisonConsumer({
    service: 'transactions',
    topicEnv: 'TRANSACTIONS_PINGS_TOPIC',
    topicName: 'platform.pings.v1',
    group: platform.groups.pings,
    type: eventTypeName.Ping,
    valid: Array.from({ length: 10 }, (_, i) => ping(i)),
    handled: count(platform.tx, 'SELECT count(*)::text AS n FROM ping_receipts WHERE event_id::text = ANY($1)'),
  });
  const invariants = [...anchor, ...compliance, ...pings];
  writeScenarioResult({
    scenario: 'poison-payments',
    at: new Date().toISOString(),
    load: "per consumer, 2 poison records then 10 valid events on this run's copy of its topic: compliance (transfer events), transactions (pings); and the audit anchor",
    faults: [
      "garbage bytes; a valid envelope of the consumer's type carrying an AnalyticsEvent",
      'a record that is not a checkpoint on the audit anchor',
      'each DLQ replayed to its topic',
    ],
    operations: {
      total: 20,
      acknowledged: 20,
      refused: 0,
      lost: invariants.every((i) => !i.name.includes('kept going') || i.ok) ? 0 : Number.NaN,
      duplicated: 0,
      notCompleted: 0,
    },
    answers: {},
    observations: invariants.filter((i) => i.name.includes('dead-lettered once')).map((i) => i.detail),
    invariants,
  });
  expect(invariants.filter((i) => !i.ok)).toEqual([]);
});

/** One metric's value from a Prometheus text page, by name and a label it must carry (0 when absent). */
async function metric(adminUrl: string, name: string, label: string): Promise<number> {
  const text = await fetch(`${adminUrl}/metrics`).then((r) => r.text());
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(label));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

it('rides out the runtime fault toggles (flaky database, failing screening, slow handlers, failing sends) with every transfer exactly once', async () => {
  const seen: string[] = [];
  const toggle = (service: keyof typeof ADMIN, words: string[]) => faultsCommand(ADMIN[service], adminToken, words);
  const { load, invariants, result } = await runPaymentsScenario({
    name: 'fault-toggles-payments',
    platform,
    clients: 6,
    loadMs: 32_000,
    fault: async (elapsed) => {
      const done: string[] = [];
      const at = async (ms: number) => sleep(Math.max(0, ms - elapsed()));
      const s = () => `${(elapsed() / 1000).toFixed(1)} s`;

      await at(3_000);
      // Nobody without the admin token switches a fault on.
      const anonymous = await fetch(`${ADMIN.transactions}/faults`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'db', errorRate: 1 }),
      });
      seen.push(`PUT /faults without the admin token: ${anonymous.status}`);
      await toggle('transactions', ['db', 'errorRate=0.5', 'delayMs=50', 'durationSec=6']);
      done.push(`transactions db errorRate=0.5 delayMs=50 at ${s()} (switches itself off after 6 s)`);
      await at(5_000);
      seen.push(`tessera_fault_active{fault="db"} while on: ${await metric(ADMIN.transactions, 'tessera_fault_active', 'fault="db"')}`);

      await at(11_000);
      seen.push(
        `tessera_fault_active{fault="db"} after its 6 s: ${await metric(ADMIN.transactions, 'tessera_fault_active', 'fault="db"')}`,
      );
      await toggle('compliance', ['grpc-server', 'match=Screen', 'errorRate=1']);
      done.push(`compliance grpc-server match=Screen errorRate=1 at ${s()}`);
      await at(17_000);
      await toggle('compliance', ['off', 'grpc-server']);
      done.push(`compliance grpc-server off at ${s()}`);

      await at(19_000);
      await toggle('transactions', ['grpc-server', 'delayMs=400', 'durationSec=5']);
      done.push(`transactions grpc-server delayMs=400 at ${s()} (5 s)`);

      await at(25_000);
      await toggle('transactions', ['kafka-produce', 'errorRate=1', 'durationSec=5']);
      done.push(
        `transactions kafka-produce errorRate=1 at ${s()} (5 s: the outbox relay's sends fail as with a dropped broker connection)`,
      );
      await at(28_000);
      for (const [service, fault] of [
        ['transactions', 'db'],
        ['compliance', 'grpc-server'],
        ['transactions', 'grpc-server'],
        ['transactions', 'kafka-produce'],
      ] as const) {
        seen.push(
          `tessera_faults_injected_total{fault="${fault}"} on ${service}: ${await metric(ADMIN[service], 'tessera_faults_injected_total', `fault="${fault}"`)}`,
        );
      }
      return done;
    },
  });
  const listed = (await toggle('transactions', ['list'])) as Record<string, unknown>;
  seen.push(`faults still on at the end: ${JSON.stringify(listed)}`);
  // Visible in the logs: each switch is a warn line of the service's own log (JSON, as any collector would ship it).
  const warned = (service: string) => {
    const file = platform.services.find((s) => s.name === service)?.logFile ?? '';
    const lines = readFileSync(file, 'utf8')
      .split('\n')
      .flatMap((line) => {
        try {
          const rec = JSON.parse(line) as { level?: string | number; msg?: string };
          return (rec.level === 'warn' || rec.level === 40) && rec.msg?.startsWith('fault injection')
            ? [rec.msg.replace(/ \(issue.*$/, '')]
            : [];
        } catch {
          return [];
        }
      });
    return `${service} warn logs: ${[...new Set(lines)].sort().join('; ')}`;
  };
  seen.push(warned('transactions'), warned('compliance'));
  result.observations.push(...seen);
  writeScenarioResult(result);

  expect(invariants.filter((i) => !i.ok)).toEqual([]);
  expect(load.statuses['500'] ?? 0).toBe(0);
  expect(load.unavailableWithoutRetryAfter).toBe(0);
  expect(load.operations.some((o) => o.retried.length > 0)).toBe(true); // the faults were felt
  expect(seen).toEqual(
    expect.arrayContaining([
      'PUT /faults without the admin token: 401',
      'tessera_fault_active{fault="db"} while on: 1',
      'tessera_fault_active{fault="db"} after its 6 s: 0',
      'transactions warn logs: fault injection ON; fault injection expired and is off',
      'compliance warn logs: fault injection ON; fault injection off',
    ]),
  );
  for (const line of seen.filter((l) => l.startsWith('tessera_faults_injected_total'))) {
    expect(Number(line.slice(line.lastIndexOf(' ') + 1))).toBeGreaterThan(0);
  }
});
