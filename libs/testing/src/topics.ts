import type { Kafka } from 'kafkajs';

export interface ThrowawayTopics {
  names: string[];
  /** Deletes them (errors swallowed: a failed test still cleans up what it can). */
  delete(): Promise<void>;
}

/**
 * Topics of one test file on the real broker (names unique per run: the caller builds them, e.g. with a run id), created
 * with their leaders elected; `delete()` them afterwards.
 */
export async function throwawayTopics(kafka: Kafka, topics: Array<{ topic: string; partitions: number }>): Promise<ThrowawayTopics> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: topics.map((t) => ({ topic: t.topic, numPartitions: t.partitions })) });
  } finally {
    await admin.disconnect();
  }
  const names = topics.map((t) => t.topic);
  return {
    names,
    delete: async () => {
      const cleanup = kafka.admin();
      await cleanup.connect().catch(() => undefined);
      await cleanup.deleteTopics({ topics: names }).catch(() => undefined);
      await cleanup.disconnect().catch(() => undefined);
    },
  };
}
