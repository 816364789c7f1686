/**
 * The Go stream processor (services/stream-processor-go) under kill -9 mid-stream, on the same input and contracts as
 * exactly-once.int-spec.ts: duplicates, a replayed slice, two runs with a SIGKILL between. Its final aggregates (the
 * newest revision per window) must equal the offline computation field for field, percentiles and distinct counts
 * included (the Go stage runs the TS sketches since issue #15). Issues #14 and #15.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Admin, Kafka } from 'kafkajs';
import { aggregationOptions } from '../src/composition';
import { streamProcessorConfigSchema } from '../src/config';
import type { NormalizedEvent } from '../src/processing/processing.types';
import { makeEvents } from './support/eos-input';
import { offlineAggregates } from './support/offline-aggregates';
import { expectEqualToOffline, latestAggregates } from './support/scenario';
import {
  committedTotal,
  createTopics,
  deleteTopics,
  endTotal,
  exited,
  GO_BINARY,
  produce,
  rawMessage,
  runNames,
  startGoProcessor,
  testKafka,
  waitFor,
} from './support/kafka-fixture';

jest.setTimeout(180_000);

describe('stream-processor-go exactly-once (real Kafka, kill -9 mid-stream)', () => {
  const names = runNames('go-eos');
  let kafka: Kafka;
  let admin: Admin;
  let child: ChildProcess | undefined;

  const start = (maxPollRecords: string): ChildProcess => startGoProcessor(names, { STREAM_PROCESSOR_GO_MAX_POLL_RECORDS: maxPollRecords });

  beforeAll(async () => {
    if (!existsSync(GO_BINARY)) throw new Error(`${GO_BINARY} is missing: npx nx run stream-processor-go:build`);
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

  it('ends with every field equal to the offline computation of the same input', async () => {
    const first = makeEvents(1500, 0);
    const second = makeEvents(1500, 1500);
    const input: NormalizedEvent[] = [
      ...first,
      ...first.filter((_, i) => i % 4 === 0),
      ...second,
      ...second.filter((_, i) => i % 6 === 0),
      ...first.slice(200, 500),
    ];
    const half = first.length + Math.floor(first.length / 4);
    await produce(
      kafka,
      names.raw,
      input.slice(0, half).map((e) => rawMessage(e)),
      3,
    );

    // Small polls: many transactions, so the kill lands mid-stream.
    child = start('20');
    const total1 = await endTotal(admin, names.raw);
    await waitFor('some progress', async () => (await committedTotal(admin, names.group, names.raw)) > total1 / 5, 90_000);
    child.kill('SIGKILL');
    await exited(child);
    const atKill = await committedTotal(admin, names.group, names.raw);
    expect(atKill).toBeLessThan(total1); // really mid-stream

    await produce(
      kafka,
      names.raw,
      input.slice(half).map((e) => rawMessage(e)),
    );
    child = start('500');
    const total = await endTotal(admin, names.raw);
    await waitFor('all input committed', async () => (await committedTotal(admin, names.group, names.raw)) === total, 120_000);
    child.kill('SIGTERM');
    await exited(child);

    const latest = await latestAggregates(kafka, admin, names.aggregates);
    const offline = offlineAggregates(input, aggregationOptions(streamProcessorConfigSchema.parse({})));
    expectEqualToOffline(latest, offline);
  });
});
