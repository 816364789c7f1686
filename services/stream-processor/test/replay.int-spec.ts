/**
 * The replay command's core (src/replay/replay.ts, what replay.cli.ts runs) against the real broker:
 * `dlq` re-drives dead letters to the raw topic where a processor run counts the ones that are valid
 * now; `range` re-publishes a time slice of the raw topic unchanged.
 */
import type { ChildProcess } from 'node:child_process';
import { analyticsV1 } from '@tessera/contracts';
import { decodeEnvelope } from '@tessera/kafka';
import type { Admin, Kafka, Message } from 'kafkajs';
import type { NormalizedEvent } from '../src/processing/processing.types';
import { replayDeadLetters, replayRange } from '../src/replay/replay';
import {
  committedTotal,
  createTopics,
  deleteTopics,
  endTotal,
  exited,
  produce,
  rawMessage,
  readAll,
  runNames,
  startProcessor,
  testKafka,
  waitFor,
} from './support/kafka-fixture';
import { latestAggregates, T0 } from './support/scenario';

jest.setTimeout(120_000);

const ev = (eventId: string, atMs: number, metric: string): NormalizedEvent => ({
  tenantId: 'acme',
  streamId: 'replay',
  eventId,
  eventTimeMs: atMs,
  measurements: [{ metric, value: 5 }],
  attributes: { user_id: 'u1' },
});

describe('stream-processor replay (real Kafka)', () => {
  const names = runNames('replay');
  const range = runNames('replay-range');
  let kafka: Kafka;
  let admin: Admin;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    kafka = testKafka();
    admin = kafka.admin();
    await admin.connect();
    await createTopics(admin, [
      { topic: names.raw, partitions: 1 },
      { topic: names.aggregates, partitions: 1 },
      { topic: names.dlq, partitions: 1 },
      { topic: range.raw, partitions: 2 },
    ]);
  });

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await deleteTopics(admin, names);
    await deleteTopics(admin, range);
    await admin.disconnect();
  });

  async function runProcessorToEnd(): Promise<void> {
    child = startProcessor(names);
    const total = await endTotal(admin, names.raw); // the raw topic is written non-transactionally: end = records
    await waitFor('raw input committed', async () => (await committedTotal(admin, names.group, names.raw)) === total, 90_000);
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
  }

  it('dlq: re-drives dead letters; the one valid now is counted, poison is dead-lettered again', async () => {
    // A producer with a skewed clock stamped this record 2 h early: its event time looks 2 h in the future, so
    // the processor dead-letters it (FUTURE_EVENT_TIME). The re-driven record gets a correct timestamp.
    const skewed = ev('skewed-1', T0 + 10_000, 'replayed.metric');
    const input: Message[] = [
      rawMessage(ev('ok-1', T0, 'ok.metric')),
      rawMessage(skewed, skewed.eventTimeMs - 2 * 3_600_000),
      { key: 'acme/replay', value: Buffer.from('not an envelope') },
    ];
    await produce(kafka, names.raw, input);
    await runProcessorToEnd();

    const letters = async () =>
      (await readAll(kafka, admin, names.dlq)).map((r) => analyticsV1.DeadLetter.decode(decodeEnvelope(r.value).data));
    expect((await letters()).map((l) => l.reasonCode).sort()).toEqual(['ANALYTICS.FUTURE_EVENT_TIME', 'ANALYTICS.INVALID_ENVELOPE']);
    const before = await latestAggregates(kafka, admin, names.aggregates);
    expect([...before.values()].some((a) => a.metric === 'replayed.metric')).toBe(false);

    const rawEnd = await endTotal(admin, names.raw);
    expect(await replayDeadLetters({ kafka, rawTopic: names.raw, dlqTopic: names.dlq, dryRun: true })).toEqual({ replayed: 2, skipped: 0 });
    expect(await endTotal(admin, names.raw)).toBe(rawEnd);
    // Letters of another input topic do not belong on this raw topic.
    expect(await replayDeadLetters({ kafka, rawTopic: `${names.raw}.other`, dlqTopic: names.dlq, dryRun: true })).toEqual({
      replayed: 0,
      skipped: 2,
    });
    expect(await replayDeadLetters({ kafka, rawTopic: names.raw, dlqTopic: names.dlq })).toEqual({ replayed: 2, skipped: 0 });
    expect(await endTotal(admin, names.raw)).toBe(rawEnd + 2);

    await runProcessorToEnd();
    const after = await latestAggregates(kafka, admin, names.aggregates);
    const replayed = [...after.values()].filter((a) => a.metric === 'replayed.metric' && a.dimensionKey === '');
    expect(replayed.length).toBeGreaterThan(0);
    for (const a of replayed) expect({ count: a.count, sum: a.sum }).toEqual({ count: 1n, sum: 5 });
    const ok = [...after.values()].filter((a) => a.metric === 'ok.metric' && a.dimensionKey === '');
    for (const a of ok) expect(a.count).toBe(1n); // untouched by the replay
    expect((await letters()).map((l) => l.reasonCode).sort()).toEqual([
      'ANALYTICS.FUTURE_EVENT_TIME',
      'ANALYTICS.INVALID_ENVELOPE',
      'ANALYTICS.INVALID_ENVELOPE',
    ]);
  });

  it('range: re-publishes exactly the records in [from, to), unchanged', async () => {
    const records = [0, 1_000, 2_000, 3_000].map((dt, i) => rawMessage(ev(`r-${i}`, T0 + dt, 'range.metric')));
    await produce(kafka, range.raw, records);
    await expect(replayRange({ kafka, rawTopic: range.raw, fromMs: T0 + 2_000, toMs: T0 + 1_000 })).rejects.toThrow(RangeError);
    expect(await replayRange({ kafka, rawTopic: range.raw, fromMs: T0 + 1_000, toMs: T0 + 3_000 })).toEqual({ replayed: 2, skipped: 2 });
    const all = await readAll(kafka, admin, range.raw);
    expect(all).toHaveLength(6);
    const count = new Map<string, number>();
    for (const r of all) count.set(r.value.toString('base64'), (count.get(r.value.toString('base64')) ?? 0) + 1);
    expect(records.map((r) => count.get((r.value as Buffer).toString('base64')))).toEqual([1, 2, 2, 1]);
  });
});
