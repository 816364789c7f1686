import { analyticsV1 } from '@tessera/contracts';
import { createProducer, decodeEnvelope, readTopicSnapshot } from '@tessera/kafka';
import type { Kafka, Message } from 'kafkajs';
import { DlqReason } from '../processing/processing.types';

export interface ReplayTarget {
  kafka: Kafka;
  /** Where replayed records go (and, for `range`, where they are read from). */
  rawTopic: string;
  /** Count only; publish nothing. */
  dryRun?: boolean;
}

export interface ReplayResult {
  /** Records re-published (or, with dryRun, that would be). */
  replayed: number;
  /** Records read but not replayed (LATE letters unless asked for, letters from other topics, undecodable letters). */
  skipped: number;
}

/**
 * Re-drives dead letters (their original bytes, original key) to the raw topic. LATE letters are
 * skipped unless `includeLate` (they were recorded as seen and the dedupe would drop them anyway);
 * letters of other input topics (payments) are skipped, since they do not belong on the raw topic.
 * The re-driven record gets a new record timestamp (the letter does not keep the original one).
 */
export async function replayDeadLetters(target: ReplayTarget & { dlqTopic: string; includeLate?: boolean }): Promise<ReplayResult> {
  let skipped = 0;
  const messages = await readToEnd(target.kafka, target.dlqTopic, ({ value, key }) => {
    let letter: analyticsV1.DeadLetter;
    try {
      letter = analyticsV1.DeadLetter.decode(decodeEnvelope(value).data);
    } catch {
      skipped++;
      return undefined;
    }
    if ((letter.reasonCode === DlqReason.late && !target.includeLate) || letter.topic !== target.rawTopic) {
      skipped++;
      return undefined;
    }
    return { key, value: Buffer.from(letter.payload) };
  });
  await publish(target, messages);
  return { replayed: messages.length, skipped };
}

/**
 * Re-publishes the raw records whose record timestamp is in [fromMs, toMs), unchanged and with their
 * timestamps. Replayed records keep their event ids, so re-processing already-counted events is a no-op
 * within the dedupe horizon: what a range replay repairs is state lost downstream or beyond the horizon.
 */
export async function replayRange(target: ReplayTarget & { fromMs: number; toMs: number }): Promise<ReplayResult> {
  if (!Number.isFinite(target.fromMs) || !Number.isFinite(target.toMs) || target.fromMs >= target.toMs) {
    throw new RangeError('range needs from < to (valid timestamps)');
  }
  let skipped = 0;
  const messages = await readToEnd(target.kafka, target.rawTopic, ({ value, key, timestamp }) => {
    if (timestamp >= target.fromMs && timestamp < target.toMs) return { key, value, timestamp: String(timestamp) };
    skipped++;
    return undefined;
  });
  await publish(target, messages);
  return { replayed: messages.length, skipped };
}

async function publish(target: ReplayTarget, messages: Message[]): Promise<void> {
  if (target.dryRun || messages.length === 0) return;
  const producer = createProducer(target.kafka);
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += 500)
      await producer.send({ topic: target.rawTopic, acks: -1, messages: messages.slice(i, i + 500) });
  } finally {
    await producer.disconnect();
  }
}

/** The records of `topic` (snapshot at the call, libs/kafka readTopicSnapshot) that `keep` maps to a message. */
async function readToEnd(
  kafka: Kafka,
  topic: string,
  keep: (m: { value: Buffer; key: Buffer | null; timestamp: number }) => Message | undefined,
): Promise<Message[]> {
  const out: Message[] = [];
  await readTopicSnapshot(kafka, topic, 'stream-processor.replay-', (m) => {
    if (!m.value) return;
    const kept = keep({ value: m.value, key: m.key, timestamp: m.timestamp });
    if (kept) out.push(kept);
  });
  return out;
}
