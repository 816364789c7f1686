/**
 * Benchmark: the exactly-once processor vs a naive baseline on the real broker, same run, same input.
 *
 *   npx tsx --conditions=@tessera/source services/stream-processor/bench/processor.bench.ts
 *   BENCH_EVENTS=50000 BENCH_RATE=100 BENCH_PACED_SECONDS=10 (defaults; the rate must be one both systems sustain) KAFKA_BROKERS=127.0.0.1:19092
 *
 * Throughput: N events are preloaded, then each system drains them (events/s from its first to its
 * last processed record, group join excluded). Latency: each system runs caught up while events are
 * produced at a fixed rate with event time = send time; an event's latency is the time until a
 * read_committed reader sees the first revision of its 10 s total window whose count includes it.
 * The baseline does the same aggregation (PartitionState) one record at a time, publishes each
 * record's aggregates with a plain producer and auto-commits offsets: no batching, no transactions,
 * no changelog, i.e. no exactly-once. Both run in this process (2-core box: numbers are relative).
 */
import { randomUUID } from 'node:crypto';
import { analyticsV1, eventTypeName } from '@tessera/contracts';
import { buildEnvelope, createProducer, decodeEnvelope, encodeEnvelope, kafkaSecurityFromEnv } from '@tessera/kafka';
import { Kafka, logLevel, Partitioners, type Admin, type Message } from 'kafkajs';
import { aggregationOptions, createStreamProcessor } from '../src/composition';
import { streamProcessorConfigSchema } from '../src/config';
import { aggregateMessage } from '../src/kafka/output.messages';
import { PartitionState } from '../src/processing/partition-state';
import { decodeRawEvent } from '../src/processing/raw-event.decoder';
import { TenantMetadata } from '../src/processing/tenant-metadata';

process.env['LOG_LEVEL'] ??= 'warn'; // read when the processor's logger is created

const BROKERS = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092').split(',');
const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 50_000);
const RATE = Number(process.env['BENCH_RATE'] ?? 100);
const PACED_SECONDS = Number(process.env['BENCH_PACED_SECONDS'] ?? 10);
const PARTITIONS = 6;
const TENANTS = ['acme', 'globex', 'initech', 'umbrella'];
const COUNTRIES = ['DE', 'FR', 'US', 'BR', 'JP'];

const kafka = new Kafka({ ...kafkaSecurityFromEnv(), clientId: `sp-bench-${process.pid}`, brokers: BROKERS, logLevel: logLevel.NOTHING });
const config = streamProcessorConfigSchema.parse({ KAFKA_BROKERS: BROKERS.join(','), STREAM_PROCESSOR_IDLE_ADVANCE_MS: '0' });
const options = aggregationOptions(config);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Topics {
  raw: string;
  aggregates: string;
  dlq: string;
  changelog: string;
  repartition: string;
  group: string;
}
function topicsFor(label: string): Topics {
  const id = `${label}-${Date.now().toString(36)}-${randomUUID().slice(0, 6)}`;
  return {
    raw: `bench.sp-raw.${id}.v1`,
    aggregates: `bench.sp-aggregates.${id}.v1`,
    dlq: `bench.sp-dlq.${id}.v1`,
    changelog: `bench.sp-changelog.${id}.v1`,
    repartition: `bench.sp-repartition.${id}.v1`,
    group: `stream-processor.bench-${id}`,
  };
}

/** One raw record as ingest writes it; `i` picks tenant/stream/attributes, `at` is event (and record) time. */
function rawRecord(i: number, at: number): Message {
  const tenantId = TENANTS[i % TENANTS.length] as string;
  const streamId = `s${i % 6}`;
  const eventId = `e-${i}-${at}`;
  const payload = analyticsV1.AnalyticsEvent.fromPartial({
    tenantId,
    streamId,
    eventId,
    eventType: i % 4 === 0 ? 'checkout' : 'page.view',
    occurredAt: new Date(at),
    value: (i * 37) % 1_000,
    attributes: { country: COUNTRIES[i % 5] as string, plan: i % 3 ? 'pro' : 'free', user_id: `u${i % 997}` },
  });
  const envelope = buildEnvelope(
    { type: eventTypeName.AnalyticsEvent, subject: eventId, id: eventId, message: payload, codec: analyticsV1.AnalyticsEvent },
    'bench',
    {},
  );
  return { key: `${tenantId}/${streamId}`, value: encodeEnvelope(envelope), timestamp: String(at) };
}

async function createTopics(admin: Admin, t: Topics): Promise<void> {
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: t.raw, numPartitions: PARTITIONS },
      { topic: t.aggregates, numPartitions: 3 },
      { topic: t.dlq, numPartitions: 1 },
    ],
  });
}

interface System {
  name: string;
  /** Records fully processed (for the processor: committed). */
  processed(): number;
  stop(): Promise<void>;
}

async function startProcessor(t: Topics): Promise<System> {
  const runner = createStreamProcessor(
    streamProcessorConfigSchema.parse({
      KAFKA_BROKERS: BROKERS.join(','),
      STREAM_PROCESSOR_RAW_TOPIC: t.raw,
      STREAM_PROCESSOR_PAYMENTS_TOPIC: 'none',
      STREAM_PROCESSOR_AGGREGATES_TOPIC: t.aggregates,
      STREAM_PROCESSOR_DLQ_TOPIC: t.dlq,
      STREAM_PROCESSOR_CHANGELOG_TOPIC: t.changelog,
      STREAM_PROCESSOR_GROUP: t.group,
      STREAM_PROCESSOR_TRANSACTIONAL_ID_PREFIX: `sp-bench-${t.group}`,
      STREAM_PROCESSOR_IDLE_ADVANCE_MS: '0',
    }),
  );
  await runner.start();
  return { name: 'exactly-once processor', processed: () => runner.stats.records, stop: () => runner.stop() };
}

/** The naive baseline: per message, same aggregation, plain producer, auto-committed offsets. */
async function startBaseline(t: Topics): Promise<System> {
  const tenants = TenantMetadata.parse(config.STREAM_PROCESSOR_TENANT_METADATA);
  const states = new Map<number, PartitionState>();
  const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  const consumer = kafka.consumer({
    groupId: t.group,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 250,
    maxBytesPerPartition: config.STREAM_PROCESSOR_MAX_BATCH_BYTES,
  });
  let processed = 0;
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topics: [t.raw], fromBeginning: true });
  await consumer.run({
    autoCommit: true,
    eachMessage: async ({ partition, message }) => {
      let state = states.get(partition);
      if (!state) states.set(partition, (state = new PartitionState(options)));
      const out = state.processBatch([
        {
          ...decodeRawEvent(message.value, tenants),
          offset: message.offset,
          key: message.key,
          value: message.value,
          timestampMs: Number(message.timestamp),
        },
      ]);
      const now = new Date();
      if (out.aggregates.length > 0)
        await producer.send({ topic: t.aggregates, acks: -1, messages: out.aggregates.map((a) => aggregateMessage(a, now)) });
      processed++;
    },
  });
  return {
    name: 'naive baseline',
    processed: () => processed,
    stop: async () => {
      await consumer.disconnect();
      await producer.disconnect();
    },
  };
}

async function produceAll(messages: Message[], topic: string): Promise<void> {
  const producer = createProducer(kafka);
  await producer.connect();
  for (let i = 0; i < messages.length; i += 1_000) await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 1_000) });
  await producer.disconnect();
}

/** Drains N preloaded events; events/s between the first and the last processed record. */
async function throughput(
  start: (t: Topics) => Promise<System>,
  label: string,
): Promise<{ name: string; eventsPerSec: number; seconds: number }> {
  const admin = kafka.admin();
  await admin.connect();
  const t = topicsFor(label);
  await createTopics(admin, t);
  const base = Date.now() - EVENTS; // event times 1 ms apart, ending now
  await produceAll(
    Array.from({ length: EVENTS }, (_, i) => rawRecord(i, base + i)),
    t.raw,
  );
  const system = await start(t);
  let first = 0;
  const deadline = Date.now() + 600_000;
  while (system.processed() < EVENTS && Date.now() < deadline) {
    if (!first && system.processed() > 0) first = Date.now();
    await sleep(20);
  }
  const seconds = (Date.now() - first) / 1_000;
  await system.stop();
  await cleanup(admin, t);
  return { name: system.name, eventsPerSec: Math.round(EVENTS / seconds), seconds };
}

/** Paced input with event time = send time; latency = first committed revision of the event's 10 s total window counting it. */
async function latency(
  start: (t: Topics) => Promise<System>,
  label: string,
): Promise<{ p50: number; p95: number; p99: number; measured: number }> {
  const admin = kafka.admin();
  await admin.connect();
  const t = topicsFor(label);
  await createTopics(admin, t);
  const system = await start(t);
  await sleep(4_000); // group join
  // Event times per 10 s total window key, in send order (one key -> one partition -> in order).
  const sent = new Map<string, number[]>();
  const seenCount = new Map<string, number>();
  const latencies: number[] = [];
  const reader = kafka.consumer({ groupId: `stream-processor.bench-read-${randomUUID()}`, maxWaitTimeInMs: 20, readUncommitted: false });
  await reader.connect();
  await reader.subscribe({ topics: [t.aggregates], fromBeginning: true });
  await reader.run({
    eachMessage: async ({ message }) => {
      const now = Date.now();
      const a = analyticsV1.WindowAggregate.decode(decodeEnvelope(message.value).data);
      if (a.dimensionKey !== '' || a.windowSizeSeconds !== 10n || a.windowSlideSeconds !== 10n) return;
      const times = sent.get(a.windowKey) ?? [];
      const from = seenCount.get(a.windowKey) ?? 0;
      const to = Math.min(Number(a.count), times.length);
      for (let k = from; k < to; k++) latencies.push(now - (times[k] as number));
      if (to > from) seenCount.set(a.windowKey, to);
    },
  });
  await sleep(3_000);
  const producer = createProducer(kafka);
  await producer.connect();
  const total = RATE * PACED_SECONDS;
  const began = Date.now();
  const tick = 50;
  let i = 0;
  while (i < total) {
    const due = Math.min(total, Math.floor(((Date.now() - began) / 1_000) * RATE));
    const batch: Message[] = [];
    for (; i < due; i++) {
      const at = Date.now();
      const m = rawRecord(i, at);
      const tenantId = TENANTS[i % TENANTS.length] as string;
      const metric = i % 4 === 0 ? 'checkout' : 'page.view';
      const startMs = Math.floor(at / 10_000) * 10_000;
      const k = `${tenantId}|s${i % 6}|${metric}|=|10|10|${startMs}`;
      const list = sent.get(k) ?? [];
      list.push(at);
      sent.set(k, list);
      batch.push(m);
    }
    if (batch.length > 0) await producer.send({ topic: t.raw, acks: -1, messages: batch });
    await sleep(tick);
  }
  await producer.disconnect();
  const until = Date.now() + 60_000;
  while (latencies.length < total && Date.now() < until) await sleep(100);
  await reader.disconnect();
  await system.stop();
  await cleanup(admin, t);
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return { p50: q(0.5), p95: q(0.95), p99: q(0.99), measured: latencies.length };
}

async function cleanup(admin: Admin, t: Topics): Promise<void> {
  await admin.deleteTopics({ topics: [t.raw, t.aggregates, t.dlq, t.changelog, t.repartition] }).catch(() => undefined);
  await admin.deleteGroups([t.group]).catch(() => undefined);
  await admin.disconnect();
}

async function main(): Promise<void> {
  console.log(
    `stream-processor bench: ${EVENTS} preloaded events on ${PARTITIONS} partitions; latency at ${RATE} ev/s for ${PACED_SECONDS} s; brokers ${BROKERS.join(',')}`,
  );
  const tp = await throughput(startProcessor, 'eos');
  console.log(`  processor drained in ${tp.seconds.toFixed(1)} s`);
  const tb = await throughput(startBaseline, 'naive');
  console.log(`  baseline drained in ${tb.seconds.toFixed(1)} s`);
  const lp = await latency(startProcessor, 'eos-lat');
  const lb = await latency(startBaseline, 'naive-lat');
  const rows: Array<[string, string, string]> = [
    ['', 'exactly-once processor', 'naive baseline'],
    ['throughput (events/s)', String(tp.eventsPerSec), String(tb.eventsPerSec)],
    [`latency p50 @${RATE}/s (ms)`, String(lp.p50), String(lb.p50)],
    [`latency p95 @${RATE}/s (ms)`, String(lp.p95), String(lb.p95)],
    [`latency p99 @${RATE}/s (ms)`, String(lp.p99), String(lb.p99)],
    ['events measured for latency', String(lp.measured), String(lb.measured)],
    ['exactly-once / survives kill -9', 'yes', 'no (dupes/loss, state in memory)'],
  ];
  const w = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]?.length ?? 0)));
  for (const r of rows) console.log(`| ${r.map((cell, c) => cell.padEnd(w[c] as number)).join(' | ')} |`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
