import type { ChildProcess } from 'node:child_process';
import { analyticsV1 } from '@tessera/contracts';
import { decodeEnvelope } from '@tessera/kafka';
import type { Admin, Kafka, Message } from 'kafkajs';
import { aggregationOptions } from '../src/composition';
import { streamProcessorConfigSchema } from '../src/config';
import type { NormalizedEvent } from '../src/processing/processing.types';
import { makeEvents } from './support/eos-input';
import { offlineAggregates } from './support/offline-aggregates';
import { latestAggregates } from './support/scenario';
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

jest.setTimeout(180_000);

describe('stream-processor exactly-once (real Kafka, kill -9 mid-stream)', () => {
  const names = runNames('eos');
  let kafka: Kafka;
  let admin: Admin;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    kafka = testKafka();
    admin = kafka.admin();
    await admin.connect();
    await createTopics(admin, [
      { topic: names.raw, partitions: 3 },
      { topic: names.aggregates, partitions: 3 },
      { topic: names.dlq, partitions: 1 },
    ]);
  });

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await deleteTopics(admin, names);
    await admin.disconnect();
  });

  it('ends with aggregates equal to the offline computation of the same input', async () => {
    const first = makeEvents(1500, 0);
    const second = makeEvents(1500, 1500);
    // Producer retries (duplicates) and a replayed slice of already-sent events.
    const input: NormalizedEvent[] = [
      ...first,
      ...first.filter((_, i) => i % 4 === 0),
      ...second,
      ...second.filter((_, i) => i % 6 === 0),
      ...first.slice(200, 500),
    ];
    const poison: Message[] = [
      { key: 'acme/stream-0', value: Buffer.from('definitely not protobuf \xff\xfe') },
      { key: 'acme/stream-0', value: Buffer.from([0x0a, 0xff, 0xff, 0xff]) },
    ];
    const half = first.length + Math.floor(first.length / 4);
    // Small record batches and the smallest fetch make the first run commit a few events per transaction, so the
    // kill below lands mid-stream: with 500-event batches it could finish between two polls.
    await produce(kafka, names.raw, [...input.slice(0, half).map((e) => rawMessage(e)), poison[0] as Message], 3);

    child = startProcessor(names, { STREAM_PROCESSOR_MAX_BATCH_BYTES: '1024' });
    const total1 = await endTotal(admin, names.raw);
    await waitFor('some progress', async () => (await committedTotal(admin, names.group, names.raw)) > total1 / 5, 90_000);
    child.kill('SIGKILL');
    await exited(child);
    const atKill = await committedTotal(admin, names.group, names.raw);
    expect(atKill).toBeLessThan(total1); // really mid-stream

    await produce(kafka, names.raw, [...input.slice(half).map((e) => rawMessage(e)), poison[1] as Message]);
    child = startProcessor(names);
    const total = await endTotal(admin, names.raw);
    await waitFor('all input committed', async () => (await committedTotal(admin, names.group, names.raw)) === total, 120_000);
    child.kill('SIGTERM');
    await exited(child);

    const latest = await latestAggregates(kafka, admin, names.aggregates);
    const config = streamProcessorConfigSchema.parse({});
    const offline = offlineAggregates(input, aggregationOptions(config));
    expect([...latest.keys()].filter((k) => !offline.has(k)).slice(0, 5)).toEqual([]);
    expect(latest.size).toBe(offline.size);
    for (const [key, want] of offline) {
      const got = latest.get(key);
      expect({
        key,
        count: Number(got?.count),
        sum: got?.sum,
        min: got?.min,
        max: got?.max,
        p50: got?.p50Approx,
        p95: got?.p95Approx,
        p99: got?.p99Approx,
        distinct: Number(got?.distinctCount),
        maxEventTimeMs: got?.maxEventTime?.getTime(),
        late: Number(got?.lateEvents),
      }).toEqual({ key, ...want, late: 0 });
    }
    const dlq = (await readAll(kafka, admin, names.dlq)).map((r) => analyticsV1.DeadLetter.decode(decodeEnvelope(r.value).data));
    expect(dlq.map((d) => d.reasonCode).sort()).toEqual(['ANALYTICS.INVALID_ENVELOPE', 'ANALYTICS.INVALID_ENVELOPE']);
    expect(Buffer.from(dlq[0]?.payload ?? []).length).toBeGreaterThan(0);
  });
});
