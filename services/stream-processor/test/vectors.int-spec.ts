/**
 * The shared pipeline vectors (tests/contract/vectors/pipeline.json) through both aggregate stages as real processes on
 * a real broker: the TS stream processor and the Go one each consume the vector input from a one-partition topic and
 * must end with exactly the expected newest revision of every window (every field but revision and computed_at) and
 * exactly the expected dead letters (offset and reason code). Issue #15.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyticsV1 } from '@tessera/contracts';
import { createProducer, decodeEnvelope } from '@tessera/kafka';
import type { Admin, Kafka } from 'kafkajs';
/* eslint-disable-next-line @nx/enforce-module-boundaries -- the vectors are a contract of both stages, kept beside the other contract tests */
import { type PipelineVectors, tsSettingsEnv, type VectorAggregate } from '../../../tests/contract/vectors/pipeline';
import { committedTotal, endTotal, exited, GO_BINARY, readAll, runNames, startGoProcessor, startProcessor, testKafka, waitFor } from './support/kafka-fixture';
import { latestAggregates } from './support/scenario';

jest.setTimeout(180_000);

const ROOT = join(__dirname, '..', '..', '..');
const vectors = JSON.parse(readFileSync(join(ROOT, 'tests/contract/vectors/pipeline.json'), 'utf8')) as PipelineVectors;
const s = vectors.settings;

function startGo(names: ReturnType<typeof runNames>): ChildProcess {
  return startGoProcessor(names, {
    STREAM_PROCESSOR_GO_WINDOWS: s.windows,
    STREAM_PROCESSOR_GO_DIMENSIONS: s.dimensions,
    STREAM_PROCESSOR_GO_DISTINCT_KEY: s.distinct,
    STREAM_PROCESSOR_GO_TENANT_METADATA: s.tenantMetadata,
    STREAM_PROCESSOR_GO_ALLOWED_LATENESS: `${s.allowedLatenessMs}ms`,
    STREAM_PROCESSOR_GO_WATERMARK_DELAY: `${s.watermarkDelayMs}ms`,
    STREAM_PROCESSOR_GO_DEDUP_HORIZON: `${s.dedupeHorizonMs}ms`,
    STREAM_PROCESSOR_GO_CLOSED_RETENTION: `${s.closedRetentionMs}ms`,
    STREAM_PROCESSOR_GO_MAX_FUTURE_SKEW: `${s.maxFutureSkewMs}ms`,
    STREAM_PROCESSOR_GO_IDLE_TIMEOUT: '24h', // no wall-clock watermark: the input's times are in 2026-01
  });
}

function startTs(names: ReturnType<typeof runNames>): ChildProcess {
  return startProcessor(names, tsSettingsEnv(s));
}

describe.each([
  ['TS stream-processor', startTs],
  ['Go stream-processor-go', startGo],
] as const)('%s reproduces the shared pipeline vectors (real broker)', (_name, start) => {
  const names = runNames('vectors');
  let kafka: Kafka;
  let admin: Admin;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    if (start === startGo && !existsSync(GO_BINARY)) throw new Error(`${GO_BINARY} is missing: npx nx run stream-processor-go:build`);
    kafka = testKafka();
    admin = kafka.admin();
    await admin.connect();
    // One partition: the log's order is the vectors' order. The input's record times are in January 2026: kept forever.
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: names.raw, numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '-1' }] },
        { topic: names.aggregates, numPartitions: 3 },
        { topic: names.dlq, numPartitions: 1 },
      ],
    });
  });

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await admin.deleteTopics({ topics: [names.raw, names.aggregates, names.dlq, names.changelog] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('ends with exactly the expected windows and dead letters', async () => {
    const producer = createProducer(kafka);
    await producer.connect();
    await producer.send({ topic: names.raw, acks: -1, messages: vectors.records.map((r) => ({ key: r.key, value: Buffer.from(r.value, 'base64'), timestamp: String(r.timestampMs) })) });
    await producer.disconnect();

    child = start(names);
    const total = await endTotal(admin, names.raw);
    await waitFor('all input committed', async () => (await committedTotal(admin, names.group, names.raw)) === total, 120_000);
    child.kill('SIGTERM');
    await exited(child);

    const got: VectorAggregate[] = [...(await latestAggregates(kafka, admin, names.aggregates)).values()]
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
    const letters = (await readAll(kafka, admin, names.dlq))
      .map((r) => analyticsV1.DeadLetter.decode(decodeEnvelope(r.value).data))
      .map((d) => ({ offset: Number(d.offset), code: d.reasonCode }))
      .sort((a, b) => a.offset - b.offset);

    expect(letters).toEqual(vectors.deadLetters);
    expect(got.length).toBe(vectors.aggregates.length);
    const wrong = got.filter((g, i) => JSON.stringify(g) !== JSON.stringify(vectors.aggregates[i]));
    expect(wrong.slice(0, 3).map((g) => ({ got: g, want: vectors.aggregates.find((w) => w.windowKey === g.windowKey) }))).toEqual([]);
  });
});
