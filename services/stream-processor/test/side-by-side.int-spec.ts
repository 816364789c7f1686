/**
 * Side by side (issue #15): the TS and the Go stage consume the SAME raw and payment topics at the same time, each on
 * its own consumer group, state, repartition and output topics (what TESSERA_AGGREGATE_STAGE=both runs), and
 * `compare-stages` (infra/local/compare-stages.ts, the code behind `npm run infra -- compare-stages`) finds every
 * window of one in the other, equal in every field. The input is the shared vectors' (raw events over three
 * partitions, payment events over one, so the repartition order is the log's).
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createProducer } from '@tessera/kafka';
import { eventually } from '@tessera/testing';
import type { Admin, Kafka } from 'kafkajs';
/* eslint-disable @nx/enforce-module-boundaries -- the comparison is the infra CLI's; the input the shared vectors' */
import { compareStages, formatComparison, newestRevisions } from '../../../infra/local/compare-stages';
import type { PaymentVectors } from '../../../tests/contract/vectors/payments';
import { goSettingsEnv, type PipelineVectors, tsSettingsEnv } from '../../../tests/contract/vectors/pipeline';
/* eslint-enable @nx/enforce-module-boundaries */
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

jest.setTimeout(240_000);

const ROOT = join(__dirname, '..', '..', '..');
const raw = JSON.parse(readFileSync(join(ROOT, 'tests/contract/vectors/pipeline.json'), 'utf8')) as PipelineVectors;
const payments = JSON.parse(readFileSync(join(ROOT, 'tests/contract/vectors/payments.json'), 'utf8')) as PaymentVectors;
const s = raw.settings;

describe('TS and Go stages side by side on the same input', () => {
  const ts = runNames('sbs-ts');
  const go = { ...runNames('sbs-go'), raw: ts.raw, payments: ts.payments };
  let kafka: Kafka;
  let admin: Admin;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    if (!existsSync(GO_BINARY)) throw new Error(`${GO_BINARY} is missing: npx nx run stream-processor-go:build`);
    kafka = testKafka();
    admin = kafka.admin();
    await admin.connect();
    const keep = [{ name: 'retention.ms', value: '-1' }]; // record times in January 2026
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: ts.raw, numPartitions: 3, configEntries: keep },
        { topic: ts.payments, numPartitions: 1, configEntries: keep },
        ...[ts, go].flatMap((n) => [
          { topic: n.aggregates, numPartitions: 3 },
          { topic: n.dlq, numPartitions: 1 },
        ]),
      ],
    });
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    const topics = [ts.raw, ts.payments, ...[ts, go].flatMap((n) => [n.repartition, n.aggregates, n.dlq, n.changelog])];
    await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
  });

  it('both consume everything and every window of one is in the other, equal in every field', async () => {
    const producer = createProducer(kafka);
    await producer.connect();
    const messages = (records: PipelineVectors['records']) =>
      records.map((r) => ({ key: r.key, value: Buffer.from(r.value, 'base64'), timestamp: String(r.timestampMs) }));
    await producer.send({ topic: ts.raw, acks: -1, messages: messages(raw.records) });
    await producer.send({ topic: ts.payments, acks: -1, messages: messages(payments.records) });
    await producer.disconnect();

    children.push(
      startProcessor(ts, { ...tsSettingsEnv(s), STREAM_PROCESSOR_PAYMENTS_TOPIC: ts.payments }),
      startGoProcessor(go, { ...goSettingsEnv(s), STREAM_PROCESSOR_GO_PAYMENTS_TOPIC: go.payments }),
    );
    for (const n of [ts, go]) {
      for (const topic of [n.raw, n.payments]) {
        const end = await endTotal(admin, topic);
        await waitFor(`${n.group} consumed ${topic}`, async () => (await committedTotal(admin, n.group, topic)) === end, 120_000);
      }
      // Every copy aggregated: past the last copied record (a transactional copy ends with a marker, never delivered).
      // The copies' marker may land a moment after the group's offsets do: wait until all of them are visible.
      const copied = payments.records.filter((r) => !r.note.startsWith('account opened')).length;
      const copies = await eventually(
        `${n.group}'s copies visible`,
        async () => {
          const read = await readAll(kafka, admin, n.repartition);
          return read.length >= copied ? read : undefined;
        },
        { timeoutMs: 30_000 },
      );
      const last = Math.max(...copies.map((c) => c.offset));
      await waitFor(
        `${n.group} aggregated its copies`,
        async () => (await committedTotal(admin, n.group, n.repartition)) >= last + 1,
        120_000,
      );
    }
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map(exited));

    const prefix = 'stream-processor.test-compare-';
    const [a, b] = await Promise.all([newestRevisions(kafka, ts.aggregates, prefix), newestRevisions(kafka, go.aggregates, prefix)]);
    // Both stopped after the same input: open windows (the newest ones) are compared too.
    const result = compareStages(a, b, { includeOpen: true });
    process.stdout.write(`side by side: ${formatComparison(result, { a: 'TS', b: 'Go' }).join('\n')}\n`);
    expect(result.differ.slice(0, 3)).toEqual([]);
    expect(result.onlyA).toEqual([]);
    expect(result.onlyB).toEqual([]);
    expect(result.compared).toBe(a.size);
    expect(b.size).toBe(a.size);
    // Raw and payment windows, final and open ones.
    expect(a.size).toBe(raw.aggregates.length + payments.aggregates.length);
    expect([...a.values()].some((w) => w.final) && [...a.values()].some((w) => !w.final)).toBe(true);
    const letters = async (topic: string) => (await readAll(kafka, admin, topic)).length;
    expect(await letters(go.dlq)).toBe(await letters(ts.dlq));
  });
});
