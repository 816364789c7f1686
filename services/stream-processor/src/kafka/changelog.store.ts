import { randomUUID } from 'node:crypto';
import type { KafkaLogger } from '@tessera/kafka';
import type { Admin, Kafka } from 'kafkajs';

/** Which changelog partition holds the state of an input partition: one per input partition. */
export class ChangelogLayout {
  private readonly base = new Map<string, number>();
  readonly partitions: number;

  constructor(inputs: Array<{ topic: string; partitions: number }>) {
    let next = 0;
    for (const { topic, partitions } of inputs) {
      this.base.set(topic, next);
      next += partitions;
    }
    this.partitions = next;
  }

  partitionFor(topic: string, partition: number): number {
    const base = this.base.get(topic);
    if (base === undefined) throw new Error(`topic ${topic} is not an input of this processor`);
    return base + partition;
  }
}

/**
 * Creates the compacted changelog topic if missing and refuses to run against one whose partition
 * count differs from the layout (state would be read from the wrong partitions).
 */
export async function ensureChangelogTopic(admin: Admin, topic: string, layout: ChangelogLayout): Promise<void> {
  const existing = await admin.listTopics();
  if (!existing.includes(topic)) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic, numPartitions: layout.partitions, replicationFactor: -1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
      ],
    });
    return;
  }
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  const count = meta.topics[0]?.partitions.length ?? 0;
  if (count !== layout.partitions) {
    throw new Error(
      `changelog topic ${topic} has ${count} partitions; the inputs need ${layout.partitions} (delete it or use another STREAM_PROCESSOR_CHANGELOG_TOPIC)`,
    );
  }
}

/**
 * Creates the payments repartition topic if missing: one partition, since every payment event has
 * the same key (more partitions would stay empty).
 */
export async function ensureRepartitionTopic(admin: Admin, topic: string): Promise<void> {
  const existing = await admin.listTopics();
  if (existing.includes(topic)) return;
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic, numPartitions: 1, replicationFactor: -1, configEntries: [{ name: 'retention.ms', value: '604800000' }] }],
  });
}

/**
 * Reads the given changelog partitions from the beginning up to their last stable offset
 * (read_committed: aborted and open transactions are never applied) and hands every record to
 * `apply` in log order. Uses a throw-away consumer group (kafkajs has no manual assignment).
 * Callers fence the previous owner's producer first so no transaction of it is still open.
 */
export async function restoreChangelog(options: {
  kafka: Kafka;
  admin: Admin;
  topic: string;
  partitions: number[];
  logger: KafkaLogger;
  apply: (partition: number, key: string, value: string | undefined) => void;
  timeoutMs?: number;
}): Promise<number> {
  const { kafka, admin, topic, logger } = options;
  const offsets = await admin.fetchTopicOffsets(topic);
  const pending = new Map<number, bigint>();
  for (const p of options.partitions) {
    const o = offsets.find((x) => x.partition === p);
    if (o && BigInt(o.high) > BigInt(o.low)) pending.set(p, BigInt(o.high) - 1n);
  }
  if (pending.size === 0) return 0;
  const wanted = new Set(options.partitions);
  const groupId = `stream-processor.restore-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 100, sessionTimeout: 30_000 });
  let applied = 0;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`changelog restore of ${topic} timed out`)), options.timeoutMs ?? 60_000);
      const check = (partition: number, lastOffset: string) => {
        const end = pending.get(partition);
        if (end !== undefined && BigInt(lastOffset) >= end) pending.delete(partition);
        if (pending.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      };
      // Also fires for batches that held only transaction markers or aborted records.
      consumer.on(consumer.events.END_BATCH_PROCESS, (e) => check(e.payload.partition, e.payload.lastOffset));
      void consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            if (!wanted.has(batch.partition)) return;
            for (const m of batch.messages) {
              const key = m.key?.toString('utf8');
              if (key === undefined) continue;
              options.apply(batch.partition, key, m.value === null ? undefined : m.value.toString('utf8'));
              applied++;
            }
          },
        })
        .catch(reject);
    });
    await done;
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
  }
  logger.info({ topic, partitions: options.partitions, records: applied }, 'state restored from changelog');
  return applied;
}
