/**
 * Chaos scenarios on the payment services' processes under transfer load (issue #14, scenarios 1 and 4):
 * kill -9 of transactions and of compliance mid-load, several times, each started again by the test; and a gray
 * failure, transactions frozen with SIGSTOP for longer than the gateway's deadline, then SIGCONT. Every client retries
 * its Idempotency-Key; afterwards nothing is lost, duplicated or left unsettled and every invariant holds. Then
 * scenario 5 for compliance's monitor: poison on its transfer-events topic is dead-lettered and replayable.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { analyticsV1, eventTypeName, paymentsV1 } from '@tessera/contracts';
import { buildEnvelope, createProducer, encodeEnvelope, kafkaSecurityFromEnv, readTopicSnapshot, replayDlq, summariseDeadLetter } from '@tessera/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { startPaymentsPlatform, type PaymentsPlatform } from '../e2e/support/payments-platform';
import { waitFor } from '../e2e/support/platform';
import type { Invariant } from './support/invariants';
import { groupLag } from './support/lag';
import { writeScenarioResult } from './support/report';
import { runPaymentsScenario } from './support/scenario';

jest.setTimeout(240_000);

let platform: PaymentsPlatform;

beforeAll(async () => {
  platform = await startPaymentsPlatform(18380, { env: { GATEWAY_RATE_LIMITS: 'write=100000/60s,read=100000/60s' } });
}, 180_000);

afterAll(() => platform?.stop(), 120_000);

const pidOf = (name: string) => platform.services.find((s) => s.name === name)?.process;

it('survives kill -9 of transactions and compliance, twice each, with every transfer exactly once', async () => {
  const { load, invariants } = await runPaymentsScenario({
    name: 'kill-9-payments',
    platform,
    clients: 6,
    loadMs: 36_000,
    fault: async (elapsed) => {
      const done: string[] = [];
      for (const [at, name] of [[4_000, 'transactions'], [12_000, 'compliance'], [20_000, 'transactions'], [28_000, 'compliance']] as const) {
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

it('dead-letters a garbage and a schema-incompatible transfer event with a reason, keeps going, and replays the letters', async () => {
  // This run's own transfer-events topic (and its `<topic>.dlq`), so no other consumer of the shared topic sees the poison.
  const topic = `e2e.${platform.run}.payments.transfer.events.v1`;
  const dlq = `${topic}.dlq`;
  const kafka = new Kafka({ ...kafkaSecurityFromEnv(), clientId: 'chaos-poison', brokers: (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092').split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 3 }, { topic: dlq, numPartitions: 1 }] });
    const created = (i: number) => {
      const transfer = paymentsV1.Transfer.fromPartial({ id: randomUUID(), sourceAccountId: randomUUID(), destinationAccountId: randomUUID(), amount: { amountMinor: String(100 + i), currency: 'EUR' }, status: paymentsV1.TransferStatus.TRANSFER_STATUS_POSTED, createdAt: new Date(), postedAt: new Date() });
      return buildEnvelope({ type: eventTypeName.TransferCreated, subject: transfer.id, message: paymentsV1.TransferCreated.fromPartial({ transfer }), codec: paymentsV1.TransferCreated }, 'chaos-poison', {});
    };
    const valid = Array.from({ length: 10 }, (_, i) => created(i));
    const other = analyticsV1.AnalyticsEvent.encode(analyticsV1.AnalyticsEvent.fromPartial({ tenantId: 'demo', eventId: 'poison', value: 1 })).finish();
    const incompatible = buildEnvelope({ type: eventTypeName.TransferCreated, subject: 'poison', data: other }, 'chaos-poison', {});
    const producer = createProducer(kafka);
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: [
        { key: 'poison', value: Buffer.from('not an envelope \u0000\u00ff', 'latin1') },
        { key: 'poison', value: encodeEnvelope(incompatible) },
        ...valid.map((e) => ({ key: e.subject, value: encodeEnvelope(e) })),
      ],
    });
    await producer.disconnect();

    await platform.restart('compliance', { COMPLIANCE_TRANSFER_EVENTS_TOPIC: topic });
    const processed = async () => (await platform.co.query<{ n: string }>('SELECT count(*)::text AS n FROM processed_events WHERE event_id = ANY($1)', [valid.map((e) => e.id)])).rows[0]?.n;
    await waitFor('the monitor past the poison', async () => (await processed()) === '10' && (await groupLag(admin, platform.groups.monitor, topic)) === 0, 90_000);
    const letters = async () => {
      const out: ReturnType<typeof summariseDeadLetter>[] = [];
      await readTopicSnapshot(kafka, dlq, 'chaos-verify.', (m) => out.push(summariseDeadLetter(m.headers)));
      return out;
    };
    const first = await letters();
    const replay = await replayDlq({ kafka, dlqTopic: dlq, groupPrefix: 'chaos-verify.' });
    await waitFor('the replayed letters dead-lettered again', async () => (await letters()).length === 4 && (await groupLag(admin, platform.groups.monitor, topic)) === 0, 90_000);

    const invariants: Invariant[] = [
      { name: 'both poison records dead-lettered once, with a reason and the group', ok: first.length === 2 && first.every((l) => l.reason !== '' && l.errorCode !== '' && l.consumerGroup === platform.groups.monitor && l.originalTopic === topic), detail: first.map((l) => `${l.errorCode}: ${l.reason.slice(0, 80)}`).join('; ') },
      { name: 'the valid events after the poison were handled (the consumer kept going)', ok: (await processed()) === '10', detail: `${await processed()} of 10 in processed_events` },
      { name: 'replayed letters come back to the DLQ (poison stays poison, nothing crashes)', ok: replay.replayed === 2, detail: `${replay.replayed} replayed; ${JSON.stringify(replay.byCause)}` },
    ];
    writeScenarioResult({
      scenario: 'poison-transfer-events',
      at: new Date().toISOString(),
      load: "2 poison records and 10 valid TransferCreated events on this run's transfer-events topic (compliance's AML monitor)",
      faults: ['garbage bytes; a valid envelope labelled TransferCreated carrying an AnalyticsEvent', 'the DLQ replayed to its topic'],
      operations: { total: 10, acknowledged: 10, refused: 0, lost: 10 - Number(await processed()), duplicated: 0, notCompleted: 0 },
      answers: {},
      observations: [`letters: ${first.map((l) => l.errorCode).join(', ')}`],
      invariants,
    });
    expect(invariants.filter((i) => !i.ok)).toEqual([]);
  } finally {
    await platform.restart('compliance');
    await admin.deleteTopics({ topics: [topic, dlq] }).catch(() => undefined);
    await admin.disconnect();
  }
});
