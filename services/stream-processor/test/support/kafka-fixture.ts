import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { analyticsV1, eventTypeName } from '@tessera/contracts';
import { buildEnvelope, createProducer, encodeEnvelope, kafkaSecurityFromEnv } from '@tessera/kafka';
import { AssignerProtocol, Kafka, logLevel, type Admin, type Message } from 'kafkajs';
import type { NormalizedEvent } from '../../src/processing/processing.types';
import type { OtlpReceiver } from '@tessera/telemetry';
import { waitFor as waitForCheck } from '@tessera/testing';

export const BROKERS = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092').split(',');
const ROOT = join(__dirname, '..', '..', '..', '..');

export function testKafka(): Kafka {
  return new Kafka({ ...kafkaSecurityFromEnv(), clientId: `sp-test-${process.pid}`, brokers: BROKERS, logLevel: logLevel.NOTHING });
}

/** Unique topic names and group for one test run. */
export function runNames(label: string) {
  const id = `${label}-${Date.now().toString(36)}-${randomUUID().slice(0, 6)}`;
  return {
    raw: `test.sp-raw.${id}.v1`,
    payments: `test.sp-payments.${id}.v1`,
    repartition: `test.sp-repartition.${id}.v1`,
    aggregates: `test.sp-aggregates.${id}.v1`,
    dlq: `test.sp-dlq.${id}.v1`,
    changelog: `test.sp-changelog.${id}.v1`,
    group: `stream-processor.test-${id}`,
    txPrefix: `sp-test-${id}`,
  };
}
export type RunNames = ReturnType<typeof runNames>;

export async function createTopics(admin: Admin, topics: Array<{ topic: string; partitions: number }>): Promise<void> {
  await admin.createTopics({
    waitForLeaders: true,
    topics: topics.map((t) => ({ topic: t.topic, numPartitions: t.partitions, replicationFactor: 1 })),
  });
}

export async function deleteTopics(admin: Admin, names: RunNames): Promise<void> {
  await admin
    .deleteTopics({ topics: [names.raw, names.payments, names.repartition, names.aggregates, names.dlq, names.changelog] })
    .catch(() => undefined);
}

/** The raw-topic record ingest would write for an event. */
export function rawMessage(ev: NormalizedEvent, recordTime = ev.eventTimeMs): Message {
  const m = ev.measurements[0];
  const payload = analyticsV1.AnalyticsEvent.fromPartial({
    tenantId: ev.tenantId,
    streamId: ev.streamId,
    eventId: ev.eventId,
    eventType: m?.metric,
    occurredAt: new Date(ev.eventTimeMs),
    value: m?.value,
    attributes: ev.attributes,
  });
  const envelope = buildEnvelope(
    { type: eventTypeName.AnalyticsEvent, subject: ev.eventId, id: ev.eventId, message: payload, codec: analyticsV1.AnalyticsEvent },
    'test',
    {},
  );
  return { key: `${ev.tenantId}/${ev.streamId}`, value: encodeEnvelope(envelope), timestamp: String(recordTime) };
}

/**
 * Produces `messages` in sends of `perSend` (default 500). A consumer fetch always returns at least one whole record
 * batch, whatever its size limit, and one send makes one record batch per partition: a test that needs the processor
 * to progress in small transactions (to kill it mid-stream) sends small.
 */
export async function produce(kafka: Kafka, topic: string, messages: Message[], perSend = 500): Promise<void> {
  const producer = createProducer(kafka);
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += perSend) await producer.send({ topic, acks: -1, messages: messages.slice(i, i + perSend) });
  } finally {
    await producer.disconnect();
  }
}

/**
 * Starts the processor (TypeScript sources via tsx) as a child process of its own, so kill -9 hits it alone.
 * `otlp`: run with OpenTelemetry on (src/instrumentation.ts first, as in production) and export every span to
 * that in-process OTLP receiver; off by default to keep the heavy suites lean.
 */
export function startProcessor(names: RunNames, env: Record<string, string> = {}, otlp?: OtlpReceiver): ChildProcess {
  const tracing = otlp ? ['--import', join(ROOT, 'services/stream-processor/src/instrumentation.ts')] : [];
  const child = spawn(
    process.execPath,
    ['--conditions=@tessera/source', '--import', 'tsx', ...tracing, join(ROOT, 'services/stream-processor/src/main.ts')],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: 'test',
        LOG_LEVEL: process.env['SP_TEST_LOG_LEVEL'] ?? 'warn',
        OTEL_SDK_DISABLED: otlp ? 'false' : 'true',
        ...(otlp ? otlp.env() : {}),
        KAFKA_BROKERS: BROKERS.join(','),
        STREAM_PROCESSOR_RAW_TOPIC: names.raw,
        STREAM_PROCESSOR_PAYMENTS_TOPIC: 'none',
        STREAM_PROCESSOR_PAYMENTS_REPARTITION_TOPIC: names.repartition,
        STREAM_PROCESSOR_AGGREGATES_TOPIC: names.aggregates,
        STREAM_PROCESSOR_DLQ_TOPIC: names.dlq,
        STREAM_PROCESSOR_CHANGELOG_TOPIC: names.changelog,
        STREAM_PROCESSOR_GROUP: names.group,
        STREAM_PROCESSOR_TRANSACTIONAL_ID_PREFIX: names.txPrefix,
        STREAM_PROCESSOR_IDLE_ADVANCE_MS: '0',
        STREAM_PROCESSOR_MAX_BATCH_BYTES: '8192',
        // Fetch what is there, as before the 64 KB / 200 ms default: these specs pace their input themselves.
        STREAM_PROCESSOR_FETCH_MIN_BYTES: '1',
        STREAM_PROCESSOR_FETCH_MAX_WAIT_MS: '250',
        STREAM_PROCESSOR_TRANSACTION_TIMEOUT_MS: '10000',
        ...env,
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  return child;
}

/** The Go stage's build output (`npx nx run stream-processor-go:build`). */
export const GO_BINARY = join(ROOT, 'services/stream-processor-go/dist/stream-processor-go');

/** Starts the Go stream processor on this run's topics and group (`env` adds or overrides its settings). */
export function startGoProcessor(names: RunNames, env: Record<string, string> = {}): ChildProcess {
  return spawn(GO_BINARY, [], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      OTEL_TRACES_EXPORTER: 'none',
      KAFKA_BROKERS: BROKERS.join(','),
      STREAM_PROCESSOR_GO_RAW_TOPIC: names.raw,
      STREAM_PROCESSOR_GO_PAYMENTS_TOPIC: 'none',
      STREAM_PROCESSOR_GO_PAYMENTS_REPARTITION_TOPIC: names.repartition,
      STREAM_PROCESSOR_GO_AGGREGATES_TOPIC: names.aggregates,
      STREAM_PROCESSOR_GO_DLQ_TOPIC: names.dlq,
      STREAM_PROCESSOR_GO_STATE_TOPIC: names.changelog,
      STREAM_PROCESSOR_GO_GROUP_ID: names.group,
      STREAM_PROCESSOR_GO_TRANSACTIONAL_ID: names.txPrefix,
      STREAM_PROCESSOR_GO_POLL_WAIT: '200ms',
      ...env,
    },
  });
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Sum over partitions of the group's committed offsets on `topic`. */
export async function committedTotal(admin: Admin, group: string, topic: string): Promise<number> {
  const offsets = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  return (offsets[0]?.partitions ?? []).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
}

export async function endTotal(admin: Admin, topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
}

/**
 * Polls `check` until it holds. Errors Kafka marks retriable (e.g. "not the correct coordinator" while a
 * fresh broker is still loading __consumer_offsets) count as "not yet"; anything else fails at once.
 */
export function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  // Only kafkajs' retriable errors (a broker still electing a leader) are retried; anything else fails at once.
  return waitForCheck(what, check, { timeoutMs, intervalMs: 300, retryOn: (err) => (err as { retriable?: boolean }).retriable === true });
}

/** Every committed record of `topic` (read_committed), up to the end offsets at call time. */
export async function readAll(
  kafka: Kafka,
  admin: Admin,
  topic: string,
): Promise<Array<{ partition: number; offset: number; key: string; value: Buffer }>> {
  const ends = await admin.fetchTopicOffsets(topic);
  const pending = new Map(ends.filter((e) => Number(e.high) > Number(e.low)).map((e) => [e.partition, Number(e.high) - 1]));
  const out: Array<{ partition: number; offset: number; key: string; value: Buffer }> = [];
  if (pending.size === 0) return out;
  const groupId = `stream-processor.test-read-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`reading ${topic} timed out`)), 60_000);
    consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
      const end = pending.get(e.payload.partition);
      if (end !== undefined && Number(e.payload.lastOffset) >= end) pending.delete(e.payload.partition);
      if (pending.size === 0) {
        clearTimeout(timer);
        resolve();
      }
    });
    void consumer
      .run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages)
            if (m.value) out.push({ partition: batch.partition, offset: Number(m.offset), key: m.key?.toString() ?? '', value: m.value });
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  await admin.deleteGroups([groupId]).catch(() => undefined);
  return out;
}

/** Members of a consumer group with the partitions of `topic` each one holds (empty while rebalancing). */
export async function groupMembers(admin: Admin, group: string, topic: string): Promise<{ state: string; members: number[][] }> {
  const { groups } = await admin.describeGroups([group]);
  const g = groups[0];
  if (!g) return { state: 'Dead', members: [] };
  const members = g.members.map((m) => {
    const decoded = m.memberAssignment.length > 0 ? AssignerProtocol.MemberAssignment.decode(m.memberAssignment) : null;
    return [...(decoded?.assignment[topic] ?? [])].sort((a, b) => a - b);
  });
  return { state: g.state, members };
}

/** Committed offset of the group per partition of `topic` (-1 = none). */
export async function committedByPartition(admin: Admin, group: string, topic: string): Promise<Map<number, number>> {
  const offsets = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  return new Map((offsets[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
}
