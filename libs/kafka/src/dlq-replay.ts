import { randomUUID } from 'node:crypto';
import type { IHeaders, Kafka, Message } from 'kafkajs';
import { DlqHeaders } from './dead-letter';
import { createProducer } from './kafka.client';

/** A dead letter as an operator sees it: where it came from and why it failed. */
export interface DeadLetterSummary {
  originalTopic: string;
  errorCode: string;
  reason: string;
  consumerGroup: string;
  failedAt: string;
}

export interface DlqReplayOptions {
  kafka: Kafka;
  dlqTopic: string;
  /** Count and describe only; publish nothing. */
  dryRun?: boolean;
  /** Only letters with this error code (e.g. a bug fixed since) are replayed. */
  errorCode?: string;
  /** Group id prefix of the throwaway reader (its principal must own it, e.g. `tessera-admin.`); default `dlq-replay.` */
  groupPrefix?: string;
}

export interface DlqReplayResult {
  /** Letters republished to their original topic (or, dry run, that would be). */
  replayed: number;
  /** Letters left where they are: other error code, or no original topic recorded. */
  skipped: number;
  /** Letters per original topic and error code, e.g. { "payments.transfer.events.v1 COMPLIANCE.MALFORMED": 2 }. */
  byCause: Record<string, number>;
}

const header = (headers: IHeaders | undefined, name: string): string => {
  const v = headers?.[name];
  return v === undefined ? '' : Buffer.isBuffer(v) ? v.toString('utf8') : Array.isArray(v) ? String(v[0] ?? '') : String(v);
};

export function summariseDeadLetter(headers: IHeaders | undefined): DeadLetterSummary {
  return {
    originalTopic: header(headers, DlqHeaders.originalTopic),
    errorCode: header(headers, DlqHeaders.errorCode),
    reason: header(headers, DlqHeaders.reason),
    consumerGroup: header(headers, DlqHeaders.consumerGroup),
    failedAt: header(headers, DlqHeaders.failedAt),
  };
}

/**
 * Re-drives the dead letters of any DLQ written by EventConsumer (`deadLetterMessage`: original key, value and headers
 * plus `dlq-*` headers) to the topic each came from, unchanged (the `dlq-*` headers dropped, `dlq-replayed-at` added).
 * Consumers are idempotent by event id, so a letter whose cause was transient, or a bug fixed since, is simply handled
 * now; one that still fails goes back to the DLQ with a fresh reason. Reads a snapshot (up to the end offsets at the
 * start), with a throwaway group deleted afterwards. The analytics DLQ (a DeadLetter envelope per event) has its own
 * replay in services/stream-processor.
 */
export async function replayDlq(o: DlqReplayOptions): Promise<DlqReplayResult> {
  const byCause: Record<string, number> = {};
  let skipped = 0;
  const out = new Map<string, Message[]>();
  await readTopicSnapshot(o.kafka, o.dlqTopic, o.groupPrefix ?? 'dlq-replay.', (m) => {
    const s = summariseDeadLetter(m.headers);
    const cause = `${s.originalTopic || '(unknown topic)'} ${s.errorCode || '(no code)'}`;
    byCause[cause] = (byCause[cause] ?? 0) + 1;
    if (!s.originalTopic || (o.errorCode !== undefined && s.errorCode !== o.errorCode)) {
      skipped++;
      return;
    }
    const headers: IHeaders = {};
    for (const [k, v] of Object.entries(m.headers ?? {})) if (!k.startsWith('dlq-') && v !== undefined) headers[k] = v;
    headers['dlq-replayed-at'] = new Date().toISOString();
    const list = out.get(s.originalTopic) ?? [];
    list.push({ key: m.key, value: m.value, headers });
    out.set(s.originalTopic, list);
  });
  const replayed = [...out.values()].reduce((n, l) => n + l.length, 0);
  if (!o.dryRun && replayed > 0) {
    const producer = createProducer(o.kafka);
    await producer.connect();
    try {
      for (const [topic, messages] of out)
        for (let i = 0; i < messages.length; i += 500) await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 500) });
    } finally {
      await producer.disconnect();
    }
  }
  return { replayed, skipped, byCause };
}

/**
 * Every record of `topic` up to its end offsets at the time of the call (a snapshot: records published meanwhile, e.g.
 * by a replay to the same topic, are not read), oldest first per partition, with a throwaway group `<groupPrefix><uuid>`
 * deleted afterwards.
 */
export async function readTopicSnapshot(
  kafka: Kafka,
  topic: string,
  groupPrefix: string,
  each: (m: { key: Buffer | null; value: Buffer | null; headers?: IHeaders; timestamp: number }) => void,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const last = new Map(ends.filter((e) => Number(e.high) > Number(e.low)).map((e) => [e.partition, Number(e.high) - 1]));
    const pending = new Map(last);
    if (pending.size === 0) return;
    const groupId = `${groupPrefix}${randomUUID()}`;
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const done = (partition: number, offset: number) => {
          const end = pending.get(partition);
          if (end !== undefined && offset >= end) pending.delete(partition);
          if (pending.size === 0) resolve();
        };
        // lastOffset counts transaction markers too, so a topic ending in a commit marker still completes.
        consumer.on(consumer.events.END_BATCH_PROCESS, (e) => done(e.payload.partition, Number(e.payload.lastOffset)));
        void consumer
          .run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              for (const m of batch.messages) {
                if (Number(m.offset) > (last.get(batch.partition) ?? -1)) continue;
                each({ key: m.key, value: m.value, headers: m.headers, timestamp: Number(m.timestamp) });
              }
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
      await admin.deleteGroups([groupId]).catch(() => undefined);
    }
  } finally {
    await admin.disconnect();
  }
}
