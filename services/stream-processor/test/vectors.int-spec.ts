/**
 * The shared vectors through both aggregate stages as real processes on a real broker: the TS stream processor and the
 * Go one each consume the vector input from a one-partition topic and must end with exactly the expected newest
 * revision of every window (every field but revision and computed_at) and exactly the expected dead letters. Issue #15.
 *  - pipeline.json: raw analytics events (dead letters by offset and reason code);
 *  - payments.json: payment events, through each stage's own repartition step (dead letters by the record they hold
 *    and reason code: the Go stage copies in transactions, whose markers take repartition offsets).
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyticsV1 } from '@tessera/contracts';
import { createProducer, decodeEnvelope } from '@tessera/kafka';
import { eventually } from '@tessera/testing';
import type { Admin, Kafka } from 'kafkajs';
/* eslint-disable-next-line @nx/enforce-module-boundaries -- the vectors are a contract of both stages, kept beside the other contract tests */
import type { PaymentVectors } from '../../../tests/contract/vectors/payments';
/* eslint-disable-next-line @nx/enforce-module-boundaries -- as above */
import { goSettingsEnv, type PipelineVectors, tsSettingsEnv, type VectorAggregate } from '../../../tests/contract/vectors/pipeline';
import {
  committedTotal,
  endTotal,
  exited,
  GO_BINARY,
  readAll,
  runNames,
  startGoProcessor,
  startProcessor,
  testKafka,
  waitFor,
} from './support/kafka-fixture';
import { latestAggregates } from './support/scenario';

jest.setTimeout(180_000);

const ROOT = join(__dirname, '..', '..', '..');
const vectors = JSON.parse(readFileSync(join(ROOT, 'tests/contract/vectors/pipeline.json'), 'utf8')) as PipelineVectors;
const paymentVectors = JSON.parse(readFileSync(join(ROOT, 'tests/contract/vectors/payments.json'), 'utf8')) as PaymentVectors;
const s = vectors.settings;

function startGo(names: ReturnType<typeof runNames>, env: Record<string, string> = {}): ChildProcess {
  return startGoProcessor(names, { ...goSettingsEnv(s), ...env });
}

function startTs(names: ReturnType<typeof runNames>, env: Record<string, string> = {}): ChildProcess {
  return startProcessor(names, { ...tsSettingsEnv(s), ...env });
}

/** The newest revision of every window on the aggregates topic, in the vectors' terms, by window key. */
async function newestWindows(kafka: Kafka, admin: Admin, topic: string): Promise<VectorAggregate[]> {
  return [...(await latestAggregates(kafka, admin, topic)).values()]
    .map((a) => ({
      windowKey: a.windowKey,
      count: Number(a.count),
      sum: a.sum,
      min: a.min,
      max: a.max,
      p50: a.p50Approx,
      p95: a.p95Approx,
      p99: a.p99Approx,
      distinct: Number(a.distinctCount),
      late: Number(a.lateEvents),
      final: a.final,
      maxEventTimeMs: a.maxEventTime?.getTime() ?? null,
    }))
    .sort((a, b) => (a.windowKey < b.windowKey ? -1 : 1));
}

function expectWindows(got: VectorAggregate[], want: VectorAggregate[]): void {
  expect(got.length).toBe(want.length);
  const wrong = got.filter((g, i) => JSON.stringify(g) !== JSON.stringify(want[i]));
  expect(wrong.slice(0, 3).map((g) => ({ got: g, want: want.find((w) => w.windowKey === g.windowKey) }))).toEqual([]);
}

const deadLetters = async (kafka: Kafka, admin: Admin, topic: string) =>
  (await readAll(kafka, admin, topic)).map((r) => analyticsV1.DeadLetter.decode(decodeEnvelope(r.value).data));

const STAGES = [
  ['TS stream-processor', startTs],
  ['Go stream-processor-go', startGo],
] as const;

describe.each(STAGES)('%s reproduces the shared vectors (real broker)', (_name, start) => {
  let kafka: Kafka;
  let admin: Admin;
  let child: ChildProcess | undefined;
  const topics: string[] = [];

  beforeAll(async () => {
    if (start === startGo && !existsSync(GO_BINARY)) throw new Error(`${GO_BINARY} is missing: npx nx run stream-processor-go:build`);
    kafka = testKafka();
    admin = kafka.admin();
    await admin.connect();
  });

  afterEach(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  afterAll(async () => {
    await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
  });

  /** One partition per input: the log's order is the vectors' order. The record times are in January 2026: kept forever. */
  async function createInputs(names: ReturnType<typeof runNames>, inputs: string[]): Promise<void> {
    topics.push(names.raw, names.payments, names.repartition, names.aggregates, names.dlq, names.changelog);
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        ...inputs.map((topic) => ({ topic, numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '-1' }] })),
        { topic: names.aggregates, numPartitions: 3 },
        { topic: names.dlq, numPartitions: 1 },
      ],
    });
  }

  async function send(topic: string, records: PipelineVectors['records']): Promise<void> {
    const producer = createProducer(kafka);
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: records.map((r) => ({ key: r.key, value: Buffer.from(r.value, 'base64'), timestamp: String(r.timestampMs) })),
    });
    await producer.disconnect();
  }

  it('pipeline.json: ends with exactly the expected windows and dead letters', async () => {
    const names = runNames('vectors');
    await createInputs(names, [names.raw]);
    await send(names.raw, vectors.records);

    child = start(names);
    const total = await endTotal(admin, names.raw);
    await waitFor('all input committed', async () => (await committedTotal(admin, names.group, names.raw)) === total, 120_000);
    child.kill('SIGTERM');
    await exited(child);

    const letters = (await deadLetters(kafka, admin, names.dlq))
      .map((d) => ({ offset: Number(d.offset), code: d.reasonCode }))
      .sort((a, b) => a.offset - b.offset);
    expect(letters).toEqual(vectors.deadLetters);
    expectWindows(await newestWindows(kafka, admin, names.aggregates), vectors.aggregates);
  });

  it('payments.json: the payment metrics, through its own repartition step, are exactly the expected ones', async () => {
    const names = runNames('payvectors');
    // The raw topic exists (the stage consumes it) and stays empty.
    await createInputs(names, [names.raw, names.payments]);
    await send(names.payments, paymentVectors.records);

    const payments: Record<string, string> =
      start === startGo ? { STREAM_PROCESSOR_GO_PAYMENTS_TOPIC: names.payments } : { STREAM_PROCESSOR_PAYMENTS_TOPIC: names.payments };
    child = start(names, payments);
    const total = await endTotal(admin, names.payments);
    await waitFor('every payment event copied', async () => (await committedTotal(admin, names.group, names.payments)) === total, 120_000);
    // Then every copy aggregated: the group's offset past the last copied record (not the topic's end: a transactional
    // copy ends with a commit marker, which takes an offset and is never delivered).
    // The copies' commit marker may land a moment after the group's offsets do (the coordinator writes both at the end
    // of the transaction): wait until every copy is visible.
    const expected = paymentVectors.records.filter((r) => !r.note.startsWith('account opened')).length;
    const copies = await eventually(
      'every copy visible',
      async () => {
        const read = await readAll(kafka, admin, names.repartition);
        return read.length >= expected ? read : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(copies.length).toBe(expected);
    const last = Math.max(...copies.map((c) => c.offset));
    await waitFor('every copy aggregated', async () => (await committedTotal(admin, names.group, names.repartition)) >= last + 1, 120_000);
    child.kill('SIGTERM');
    await exited(child);

    const index = new Map(paymentVectors.records.map((r, i) => [r.value, i]));
    const letters = (await deadLetters(kafka, admin, names.dlq))
      .map((d) => ({ record: index.get(Buffer.from(d.payload).toString('base64')) ?? -1, code: d.reasonCode }))
      .sort((a, b) => a.record - b.record);
    expect(letters).toEqual(paymentVectors.deadLetters);
    expectWindows(await newestWindows(kafka, admin, names.aggregates), paymentVectors.aggregates);
  });
});
