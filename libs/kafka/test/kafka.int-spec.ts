/**
 * Against the REAL broker (KAFKA_BROKERS, default 127.0.0.1:19092; `npx tsx infra/local/cli.ts up`).
 * Every run creates its own topics so runs never see each other's messages.
 */
import { randomUUID } from 'node:crypto';
import { context, trace } from '@opentelemetry/api';
import { node } from '@opentelemetry/sdk-node';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type DataPoint,
} from '@opentelemetry/sdk-metrics';
import { commonV1 } from '@tessera/contracts';
import { CompressionTypes, logLevel, Partitioners, type Admin, type Kafka, type KafkaMessage } from 'kafkajs';
import pino from 'pino';
import {
  buildEnvelope,
  ConsumerLagMonitor,
  CONSUMER_LAG_METRIC,
  createKafka,
  dlqTopicFor,
  DLQ_MESSAGES_METRIC,
  encodeEnvelope,
  envelopeHeaders,
  EventConsumer,
  EventProducer,
  replayDlq,
  type EventEnvelope,
  type MessageContext,
} from '../src';

const logger = pino({ level: process.env['LOG_LEVEL'] ?? 'fatal' });
const run = randomUUID().slice(0, 8);
const PING = 'tessera.common.v1.Ping';

let kafka: Kafka;
let admin: Admin;
let producer: EventProducer;
const exporter = new node.InMemorySpanExporter();
const provider = new node.NodeTracerProvider({ spanProcessors: [new node.SimpleSpanProcessor(exporter)] });
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const metricReader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
const meterProvider = new MeterProvider({ readers: [metricReader] });
const meter = meterProvider.getMeter('kafka-lib-test');

/** The data points of one metric as they are now (cumulative). */
async function points(name: string): Promise<Array<DataPoint<number>>> {
  metricExporter.reset();
  await metricReader.forceFlush();
  const metric = metricExporter
    .getMetrics()
    .flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics))
    .find((m) => m.descriptor.name === name);
  return (metric?.dataPoints ?? []) as Array<DataPoint<number>>;
}

async function newTopic(name: string, partitions = 2): Promise<string> {
  const topic = `test.kafka-lib.${name}-${run}.v1`;
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic, numPartitions: partitions, replicationFactor: 1 },
      { topic: dlqTopicFor(topic), numPartitions: 1, replicationFactor: 1 },
    ],
  });
  return topic;
}

interface Received {
  envelope: EventEnvelope;
  ctx: MessageContext;
  activeTraceId: string | undefined;
}

function consumer(topic: string, groupId: string, handler: (r: Received) => Promise<void>, maxAttempts = 3) {
  return new EventConsumer({
    kafka,
    groupId,
    topics: [topic],
    codec: commonV1.Ping,
    types: [PING],
    logger,
    lagIntervalMs: 0,
    meter,
    retry: { maxAttempts, initialDelayMs: 20, maxDelayMs: 100 },
    handler: (envelope, _ping, ctx) => handler({ envelope, ctx, activeTraceId: trace.getActiveSpan()?.spanContext().traceId }),
  });
}

async function until(predicate: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Reads `count` records from a topic with a throwaway group. */
async function readAll(topic: string, count: number): Promise<KafkaMessage[]> {
  const reader = kafka.consumer({ groupId: `test.reader-${randomUUID()}` });
  const out: KafkaMessage[] = [];
  await reader.connect();
  await reader.subscribe({ topics: [topic], fromBeginning: true });
  await reader.run({ eachMessage: async ({ message }) => void out.push(message) });
  try {
    await until(() => out.length >= count);
  } finally {
    await reader.disconnect();
  }
  return out;
}

const ping = (subject: string) => ({ type: PING, subject, message: commonV1.Ping.fromPartial({}), codec: commonV1.Ping });

beforeAll(async () => {
  provider.register();
  kafka = createKafka({ clientId: `kafka-lib-test-${run}`, logger, logLevel: logLevel.WARN });
  admin = kafka.admin();
  await admin.connect();
  producer = new EventProducer({ kafka, source: 'kafka-lib-test', logger });
  await producer.connect();
}, 60_000);

afterAll(async () => {
  await producer?.disconnect();
  await admin?.disconnect();
  await provider.shutdown();
  await meterProvider.shutdown();
  trace.disable();
  context.disable();
});

describe('EventProducer -> EventConsumer', () => {
  it('delivers N events with envelope and trace context intact', async () => {
    const topic = await newTopic('roundtrip');
    const N = 20;
    const span = trace.getTracer('test').startSpan('publisher');
    const sent = await context.with(trace.setSpan(context.active(), span), async () => {
      const first = await producer.publish(topic, ping('acc-0'));
      const rest = await producer.publishBatch(
        topic,
        Array.from({ length: N - 1 }, (_, i) => ping(`acc-${i + 1}`)),
      );
      return [first, ...rest];
    });
    span.end();
    const traceId = span.spanContext().traceId;

    const received: Received[] = [];
    const c = consumer(topic, `kafka-lib-test.roundtrip-${run}`, async (r) => void received.push(r));
    await c.start();
    try {
      await until(() => received.length >= N);
    } finally {
      await c.stop();
    }

    expect(received).toHaveLength(N);
    expect(new Set(received.map((r) => r.envelope.id))).toEqual(new Set(sent.map((e) => e.id)));
    for (const r of received) {
      expect(r.envelope).toMatchObject({ type: PING, source: 'kafka-lib-test', schemaVersion: 1, dataContentType: 'application/protobuf' });
      expect(r.envelope.traceparent).toContain(traceId);
      expect(r.activeTraceId).toBe(traceId);
      expect(r.ctx.key).toBe(r.envelope.subject);
      expect(r.ctx.headers['ce_id']?.toString()).toBe(r.envelope.id);
    }
    const consumerSpans = exporter.getFinishedSpans().filter((s) => s.name === `process ${topic}`);
    expect(consumerSpans).toHaveLength(N);
    expect(consumerSpans.every((s) => s.spanContext().traceId === traceId)).toBe(true);
  }, 60_000);

  it('dead-letters a message that keeps failing after K attempts, and poison at once, then moves on', async () => {
    const topic = await newTopic('dlq', 1);
    const bad = await producer.publish(topic, ping('bad'));
    const raw = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await raw.connect();
    await raw.send({ topic, messages: [{ key: 'poison', value: Buffer.from('definitely not an envelope') }] });
    await raw.disconnect();
    const good = await producer.publish(topic, ping('good'));

    const attempts = new Map<string, number>();
    const handled: string[] = [];
    const c = consumer(
      topic,
      `kafka-lib-test.dlq-${run}`,
      async ({ envelope, ctx }) => {
        attempts.set(envelope.subject, ctx.attempt);
        if (envelope.subject === 'bad') throw new Error('downstream rejected');
        handled.push(envelope.id);
      },
      3,
    );
    await c.start();
    try {
      await until(() => handled.length === 1);
    } finally {
      await c.stop();
    }
    expect(handled).toEqual([good.id]);
    expect(attempts.get('bad')).toBe(3);

    const dead = await readAll(dlqTopicFor(topic), 2);
    const header = (m: KafkaMessage, h: string) => m.headers?.[h]?.toString();
    const failed = dead.find((m) => header(m, 'ce_id') === bad.id)!;
    expect(header(failed, 'dlq-reason')).toBe('Error: downstream rejected');
    expect(header(failed, 'dlq-attempts')).toBe('3');
    expect(header(failed, 'dlq-original-topic')).toBe(topic);
    expect(header(failed, 'dlq-original-partition')).toBe('0');
    expect(header(failed, 'dlq-original-offset')).toBe('0');
    const poison = dead.find((m) => m.key?.toString() === 'poison')!;
    expect(header(poison, 'dlq-error-code')).toBe('KAFKA.POISON_MESSAGE');
    expect(header(poison, 'dlq-attempts')).toBe('1');
    expect(poison.value?.toString()).toBe('definitely not an envelope');

    const dlqCounts = (await points(DLQ_MESSAGES_METRIC)).filter((p) => p.attributes['messaging.destination.name'] === topic);
    expect(dlqCounts.map((p) => [p.attributes['error.type'], p.attributes['messaging.consumer.group.name'], p.value]).sort()).toEqual([
      ['KAFKA.POISON_MESSAGE', `kafka-lib-test.dlq-${run}`, 1],
      ['UNHANDLED', `kafka-lib-test.dlq-${run}`, 1],
    ]);
  }, 60_000);

  it('replays a DLQ to the topic each letter came from: dry run counts, a filter by error code, the fixed consumer handles it', async () => {
    const topic = await newTopic('replay', 1);
    const bad = await producer.publish(topic, ping('bad'));
    const raw = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await raw.connect();
    await raw.send({ topic, messages: [{ key: 'poison', value: Buffer.from('still not an envelope') }] });
    await raw.disconnect();
    let fixed = false;
    const handled: string[] = [];
    const c = consumer(
      topic,
      `kafka-lib-test.replay-${run}`,
      async ({ envelope }) => {
        if (!fixed) throw new Error('a bug, fixed later');
        handled.push(envelope.id);
      },
      2,
    );
    await c.start();
    try {
      await readAll(dlqTopicFor(topic), 2); // both dead-lettered: the bug and the poison
      const dry = await replayDlq({ kafka, dlqTopic: dlqTopicFor(topic), dryRun: true });
      expect(dry).toEqual({ replayed: 2, skipped: 0, byCause: { [`${topic} UNHANDLED`]: 1, [`${topic} KAFKA.POISON_MESSAGE`]: 1 } });
      expect(handled).toEqual([]);
      fixed = true;
      // Only the letters of the fixed bug: the poison would only fail again.
      expect(await replayDlq({ kafka, dlqTopic: dlqTopicFor(topic), errorCode: 'UNHANDLED' })).toMatchObject({ replayed: 1, skipped: 1 });
      await until(() => handled.length === 1);
    } finally {
      await c.stop();
    }
    expect(handled).toEqual([bad.id]);
    const onTopic = await readAll(topic, 3);
    const replayed = onTopic[2]!;
    expect(replayed.headers?.['ce_id']?.toString()).toBe(bad.id);
    expect(Object.keys(replayed.headers ?? {}).filter((h) => h.startsWith('dlq-'))).toEqual(['dlq-replayed-at']);
  }, 90_000);

  it('reports consumer lag per partition: the whole log before the group commits, zero after it caught up', async () => {
    const topic = await newTopic('lag', 2);
    for (let i = 0; i < 5; i++) await producer.publish(topic, ping(`lag-${i}`));
    const groupId = `kafka-lib-test.lag-${run}`;
    const monitor = new ConsumerLagMonitor({ admin: kafka.admin(), groupId, topics: [topic], logger, meter, intervalMs: 60_000 });
    const lagOf = async () =>
      (await points(CONSUMER_LAG_METRIC))
        .filter((p) => p.attributes['messaging.consumer.group.name'] === groupId && p.attributes['messaging.destination.name'] === topic)
        .map((p) => ({ partition: p.attributes['messaging.destination.partition.id'], lag: p.value }));
    await monitor.start();
    try {
      const before = await lagOf();
      expect(before.map((p) => p.partition).sort()).toEqual(['0', '1']);
      expect(before.reduce((n, p) => n + p.lag, 0)).toBe(5);

      let handled = 0;
      const c = consumer(topic, groupId, async () => void handled++);
      await c.start();
      try {
        await until(() => handled === 5);
      } finally {
        await c.stop();
      }
      await monitor.refresh();
      expect((await lagOf()).map((p) => p.lag)).toEqual([0, 0]);
    } finally {
      await monitor.stop();
    }
  }, 60_000);

  it('batch mode: one handler call per fetched batch, in offset order; a bad batch falls back to one by one, the poison dead-lettered', async () => {
    const topic = await newTopic('batch', 1);
    const groupId = `kafka-lib-test.batch-${run}`;
    const sent = await producer.publishBatch(
      topic,
      Array.from({ length: 20 }, (_, i) => ping(i === 13 ? 'bad' : `b-${i}`)),
    );
    const calls: string[][] = [];
    const handled: string[] = [];
    const spansBefore = exporter.getFinishedSpans().length;
    const c = new EventConsumer({
      kafka,
      groupId,
      topics: [topic],
      codec: commonV1.Ping,
      types: [PING],
      logger,
      lagIntervalMs: 0,
      meter,
      retry: { maxAttempts: 2, initialDelayMs: 20, maxDelayMs: 50 },
      batchHandler: async (items) => {
        calls.push(items.map((it) => it.envelope.subject));
        if (items.some((it) => it.envelope.subject === 'bad')) throw new Error('downstream rejected the batch');
        handled.push(...items.map((it) => it.envelope.id));
      },
    });
    await c.start();
    try {
      await until(() => handled.length === 19);
    } finally {
      await c.stop();
    }
    // Every good message handled exactly once, in order; the bad one dead-lettered after its own retries.
    expect(handled).toEqual(sent.filter((e) => e.subject !== 'bad').map((e) => e.id));
    const whole = calls.filter((call) => call.length > 1);
    expect(whole.length).toBeGreaterThanOrEqual(2); // the batch holding 'bad' was tried whole twice (maxAttempts 2)
    expect(whole.flat()).toContain('bad');
    expect(calls.filter((call) => call.length === 1 && call[0] === 'bad')).toHaveLength(2); // then alone, twice
    const [dead] = await readAll(dlqTopicFor(topic), 1);
    expect(dead?.headers?.['ce_id']?.toString()).toBe(sent[13]?.id);
    expect(dead?.headers?.['dlq-attempts']?.toString()).toBe('2');
    // One span per batch, linked to the producers' spans, not one per message.
    const batchSpans = exporter
      .getFinishedSpans()
      .slice(spansBefore)
      .filter((sp) => sp.name === `process ${topic}`);
    expect(batchSpans.length).toBeLessThan(20);
    expect(batchSpans.some((sp) => (sp.links?.length ?? 0) > 1)).toBe(true);
  }, 60_000);

  it('fetch wait: with minBytes/maxWaitMs the broker holds fetches, so a trickle of messages arrives in batches', async () => {
    const topic = await newTopic('fetch-wait', 1);
    const batches: string[][] = [];
    const c = new EventConsumer({
      kafka,
      groupId: `kafka-lib-test.fetch-wait-${run}`,
      topics: [topic],
      codec: commonV1.Ping,
      types: [PING],
      logger,
      lagIntervalMs: 0,
      meter,
      fetch: { minBytes: 1024 * 1024, maxWaitMs: 1000 },
      batchHandler: async (items) => void batches.push(items.map((it) => it.envelope.subject)),
    });
    const joined = c.waitForAssignment();
    await c.start();
    try {
      await joined;
      // One message every 40 ms for ~0.5 s: without the wait, each fetch answers with the one or two that arrived.
      for (let i = 0; i < 12; i++) {
        await producer.publish(topic, ping(`t-${i}`));
        await new Promise((r) => setTimeout(r, 40));
      }
      await until(() => batches.flat().length === 12);
    } finally {
      await c.stop();
    }
    expect(batches.flat()).toEqual(Array.from({ length: 12 }, (_, i) => `t-${i}`));
    // Every fetch window of maxWaitMs covers at least half of the trickle: some batch holds several messages.
    expect(Math.max(...batches.map((b) => b.length))).toBeGreaterThanOrEqual(3);
  }, 60_000);

  it("batch mode with messageSpans: each message is handled under its own CONSUMER span, a child of its producer's", async () => {
    const topic = await newTopic('batch-spans', 1);
    const parent = trace.getTracer('kafka-lib-test').startSpan('producer side');
    const sent = await context.with(trace.setSpan(context.active(), parent), () =>
      producer.publishBatch(
        topic,
        Array.from({ length: 5 }, (_, i) => ping(`m-${i}`)),
      ),
    );
    parent.end();
    const seen: Array<{ subject: string; spanId: string | undefined }> = [];
    const c = new EventConsumer({
      kafka,
      groupId: `kafka-lib-test.batch-spans-${run}`,
      topics: [topic],
      codec: commonV1.Ping,
      types: [PING],
      logger,
      lagIntervalMs: 0,
      meter,
      messageSpans: true,
      batchHandler: async (items) => {
        for (const it of items) seen.push({ subject: it.envelope.subject, spanId: trace.getSpanContext(it.trace)?.spanId });
      },
    });
    await c.start();
    try {
      await until(() => seen.length === 5);
    } finally {
      await c.stop();
    }
    const consumerSpans = exporter.getFinishedSpans().filter((sp) => sp.name === `process ${topic}`);
    expect(consumerSpans).toHaveLength(5);
    expect(new Set(consumerSpans.map((sp) => sp.spanContext().traceId))).toEqual(new Set([parent.spanContext().traceId]));
    // Each item's trace is its own CONSUMER span, and that span's parent is on the producer's side of the trace.
    expect(seen.map((x) => x.subject)).toEqual(sent.map((e) => e.subject));
    expect(new Set(seen.map((x) => x.spanId))).toEqual(new Set(consumerSpans.map((sp) => sp.spanContext().spanId)));
    expect(
      consumerSpans.every((sp) => sp.parentSpanContext?.spanId !== undefined && sp.parentSpanContext.spanId !== sp.spanContext().spanId),
    ).toBe(true);
  }, 60_000);

  it("commits past a transaction's commit marker while running: a group on a transactional topic catches up to the log end", async () => {
    const topic = await newTopic('txn', 1);
    const groupId = `kafka-lib-test.txn-${run}`;
    const txProducer = kafka.producer({
      transactionalId: `kafka-lib-test-txn-${run}`,
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await txProducer.connect();
    const envelopes = Array.from({ length: 3 }, (_, i) => buildEnvelope(ping(`t-${i}`), 'kafka-lib-test', {}));
    try {
      const tx = await txProducer.transaction();
      await tx.send({ topic, messages: envelopes.map((e) => ({ key: e.subject, value: encodeEnvelope(e), headers: envelopeHeaders(e) })) });
      await tx.commit();
    } finally {
      await txProducer.disconnect();
    }
    // Three records and the commit marker. The broker writes the marker after answering EndTxn, so the log end
    // (read as the last stable offset) can trail the commit by a moment on a fresh broker: wait for it.
    const high = async () => (await admin.fetchTopicOffsets(topic))[0]?.high;
    for (const deadline = Date.now() + 15_000; (await high()) !== '4' && Date.now() < deadline;)
      await new Promise((r) => setTimeout(r, 100));
    expect(await high()).toBe('4');

    const seen: string[] = [];
    const c = consumer(topic, groupId, async ({ envelope }) => void seen.push(envelope.id));
    await c.start();
    try {
      await until(() => seen.length >= 3);
      const committed = async () => (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]?.partitions[0]?.offset;
      const deadline = Date.now() + 15_000;
      while ((await committed()) !== '4' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(await committed()).toBe('4');
    } finally {
      await c.stop();
    }
    expect(seen.sort()).toEqual(envelopes.map((e) => e.id).sort());
  }, 60_000);

  it('resumes after a restart without re-processing committed messages', async () => {
    const topic = await newTopic('resume');
    const groupId = `kafka-lib-test.resume-${run}`;
    const seen: string[] = [];
    const handler = async ({ envelope }: Received) => void seen.push(envelope.id);

    const firstBatch = await producer.publishBatch(
      topic,
      Array.from({ length: 5 }, (_, i) => ping(`a-${i}`)),
    );
    const first = consumer(topic, groupId, handler);
    await first.start();
    await until(() => seen.length >= 5);
    await first.stop();

    const secondBatch = await producer.publishBatch(
      topic,
      Array.from({ length: 5 }, (_, i) => ping(`b-${i}`)),
    );
    const second = consumer(topic, groupId, handler);
    await second.start();
    try {
      await until(() => seen.length >= 10);
      await new Promise((r) => setTimeout(r, 1_000)); // room for any wrongful re-delivery
    } finally {
      await second.stop();
    }
    expect(seen).toHaveLength(10);
    expect(new Set(seen)).toEqual(new Set([...firstBatch, ...secondBatch].map((e) => e.id)));
  }, 90_000);

  it("reads snappy-compressed batches (franz-go's and other clients' default), which kafkajs alone cannot", async () => {
    const topic = await newTopic('snappy', 1);
    const raw = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await raw.connect();
    const envelopes = Array.from({ length: 20 }, (_, i) => buildEnvelope(ping(`s-${i}`), 'other-language-producer', {}));
    try {
      await raw.send({
        topic,
        compression: CompressionTypes.Snappy,
        messages: envelopes.map((e) => ({ key: e.subject, value: encodeEnvelope(e), headers: envelopeHeaders(e) })),
      });
    } finally {
      await raw.disconnect();
    }
    const seen: string[] = [];
    const c = consumer(topic, `kafka-lib-test.snappy-${run}`, async ({ envelope }) => void seen.push(envelope.id));
    await c.start();
    try {
      await until(() => seen.length >= 20);
    } finally {
      await c.stop();
    }
    expect(seen.sort()).toEqual(envelopes.map((e) => e.id).sort());
  }, 60_000);

  it('writes zstd batches the broker accepts on a compacted topic (it decompresses them to check keys) and reads them back', async () => {
    // Node's zlib zstd (ZstdCodec) against the broker's zstd-jni: a frame the broker could not read fails the send.
    const topic = `test.kafka-lib.zstd-${run}.v1`;
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
    });
    const raw = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await raw.connect();
    const values = Array.from({ length: 200 }, (_, i) => JSON.stringify({ window: i, registers: 'x'.repeat(i % 50), n: i * 7919 }));
    try {
      await raw.send({
        topic,
        compression: CompressionTypes.ZSTD,
        acks: -1,
        messages: values.map((value, i) => ({ key: `w|${i}`, value })),
      });
    } finally {
      await raw.disconnect();
    }
    const read = kafka.consumer({ groupId: `kafka-lib-test.zstd-${run}` });
    const seen: string[] = [];
    await read.connect();
    await read.subscribe({ topic, fromBeginning: true });
    await read.run({ eachMessage: async ({ message }) => void seen.push(message.value?.toString() ?? '') });
    try {
      await until(() => seen.length >= values.length);
    } finally {
      await read.disconnect();
    }
    expect(seen).toEqual(values);
  }, 60_000);

  it('stop() does not wait for a join the broker holds (a member that cannot rejoin yet), and that member consumes nothing', async () => {
    // The member holding the join: its handler is stuck on a message, so it cannot rejoin when a second member
    // arrives, and the broker holds the second member's JoinGroup until the first rejoins or its rebalance timeout ends
    // (after a kill -9, until the dead member's session times out: ~30 s).
    const topic = await newTopic('stop-joining', 1);
    const groupId = `kafka-lib-test.stop-joining-${run}`;
    let release!: () => void;
    const stuck = new Promise<void>((resolve) => (release = resolve));
    let firstGot = 0;
    const first = consumer(topic, groupId, async () => {
      firstGot++;
      await stuck;
    });
    await first.start();
    await producer.publish(topic, ping('holds-the-group'));
    await until(() => firstGot === 1);

    let joined = false;
    const secondGot: string[] = [];
    const second = consumer(topic, groupId, async ({ envelope }) => void secondGot.push(envelope.id));
    // kafkajs's GROUP_JOIN event on the wrapped consumer (private: the test reaches in to watch the join).
    (second as unknown as { consumer: { on: (event: string, listener: () => void) => void } }).consumer.on(
      'consumer.group_join',
      () => (joined = true),
    );
    second.startInBackground();
    await new Promise((r) => setTimeout(r, 1_000)); // its JoinGroup is at the broker now
    await second.stop();
    expect(joined).toBe(false); // stop() returned while the join was still held

    release();
    await first.stop();
    await producer.publish(topic, ping('after'));
    await new Promise((r) => setTimeout(r, 3_000)); // long enough for the held join to complete and for a fetch
    expect(secondGot).toEqual([]);
  }, 90_000);

  it('stop() cuts a pending backoff short and leaves that message uncommitted for the next run', async () => {
    const topic = await newTopic('stop', 1);
    const groupId = `kafka-lib-test.stop-${run}`;
    const sent = await producer.publish(topic, ping('slow'));
    let failures = 0;
    const failing = new EventConsumer({
      kafka,
      groupId,
      topics: [topic],
      codec: commonV1.Ping,
      logger,
      lagIntervalMs: 0,
      retry: { maxAttempts: 10, initialDelayMs: 60_000, maxDelayMs: 60_000, multiplier: 1 },
      handler: async () => {
        failures++;
        throw new Error('not yet');
      },
    });
    await failing.start();
    await until(() => failures === 1);
    const started = Date.now();
    await failing.stop();
    expect(Date.now() - started).toBeLessThan(15_000);

    const seen: string[] = [];
    const ok = consumer(topic, groupId, async ({ envelope }) => void seen.push(envelope.id));
    await ok.start();
    try {
      await until(() => seen.length >= 1);
    } finally {
      await ok.stop();
    }
    expect(seen).toEqual([sent.id]);
  }, 90_000);
});
