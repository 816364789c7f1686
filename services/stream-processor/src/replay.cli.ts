/**
 * Replay: `npx tsx services/stream-processor/src/replay.cli.ts dlq [--include-late] [--dry-run]`
 * re-drives dead letters (original bytes) back to the raw topic; `range --from ISO --to ISO`
 * re-publishes the raw records whose timestamp falls in [from, to). Replayed records keep their
 * event ids, so the processor's dedupe makes a replay of already-counted events a no-op; re-driven
 * dead letters count once a fix (e.g. a schema change) makes them valid. LATE letters are skipped
 * unless asked for (they were recorded as seen and would be deduplicated anyway).
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { analyticsV1 } from '@tessera/contracts';
import { createKafka, decodeEnvelope } from '@tessera/kafka';
import { createLogger } from '@tessera/telemetry';
import { Partitioners, type Kafka, type Message } from 'kafkajs';
import { loadStreamProcessorConfig } from './config';
import { DlqReason } from './processing/processing.types';

async function readRange(kafka: Kafka, topic: string, keep: (m: { value: Buffer; key: Buffer | null; timestamp: number }) => Message | undefined): Promise<Message[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  const pending = new Map(ends.filter((e) => Number(e.high) > Number(e.low)).map((e) => [e.partition, Number(e.high) - 1]));
  const out: Message[] = [];
  const groupId = `stream-processor.replay-${randomUUID()}`;
  if (pending.size > 0) {
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
        const end = pending.get(e.payload.partition);
        if (end !== undefined && Number(e.payload.lastOffset) >= end) pending.delete(e.payload.partition);
        if (pending.size === 0) resolve();
      });
      void consumer.run({ autoCommit: false, eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          if (!m.value) continue;
          const kept = keep({ value: m.value, key: m.key, timestamp: Number(m.timestamp) });
          if (kept) out.push(kept);
        }
      } }).catch(reject);
    });
    await consumer.disconnect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
  }
  await admin.disconnect();
  return out;
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { from: { type: 'string' }, to: { type: 'string' }, 'include-late': { type: 'boolean', default: false }, 'dry-run': { type: 'boolean', default: false } },
  });
  const mode = positionals[0];
  const config = loadStreamProcessorConfig();
  const logger = createLogger('ReplayCli');
  const kafka = createKafka({ clientId: 'stream-processor-replay', brokers: config.KAFKA_BROKERS, logger });
  let messages: Message[];
  if (mode === 'dlq') {
    messages = await readRange(kafka, config.STREAM_PROCESSOR_DLQ_TOPIC, ({ value, key }) => {
      const letter = analyticsV1.DeadLetter.decode(decodeEnvelope(value).data);
      if (letter.reasonCode === DlqReason.late && !values['include-late']) return undefined;
      if (letter.topic !== config.STREAM_PROCESSOR_RAW_TOPIC) return undefined;
      return { key, value: Buffer.from(letter.payload) };
    });
  } else if (mode === 'range') {
    const from = Date.parse(values.from ?? '');
    const to = Date.parse(values.to ?? '');
    if (Number.isNaN(from) || Number.isNaN(to) || from >= to) throw new Error('range needs --from and --to (ISO timestamps, from < to)');
    messages = await readRange(kafka, config.STREAM_PROCESSOR_RAW_TOPIC, ({ value, key, timestamp }) => (timestamp >= from && timestamp < to ? { key, value, timestamp: String(timestamp) } : undefined));
  } else {
    process.stderr.write('usage: replay.cli.ts dlq [--include-late] [--dry-run] | range --from ISO --to ISO [--dry-run]\n');
    process.exit(2);
  }
  if (!values['dry-run'] && messages.length > 0) {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    for (let i = 0; i < messages.length; i += 500) await producer.send({ topic: config.STREAM_PROCESSOR_RAW_TOPIC, acks: -1, messages: messages.slice(i, i + 500) });
    await producer.disconnect();
  }
  process.stdout.write(`${values['dry-run'] ? 'would replay' : 'replayed'} ${messages.length} record(s) to ${config.STREAM_PROCESSOR_RAW_TOPIC}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`replay failed: ${(err as Error).message}\n`);
  process.exit(1);
});
