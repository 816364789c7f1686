import type { Kafka } from 'kafkajs';

/**
 * Deletes consumer groups, best effort: for tests and tools that create throwaway groups, so the broker (and the
 * console's consumer-lag panel, which lists every `<service>.*` group) does not collect them. A group that is
 * missing or still has members is left alone; nothing here throws.
 */
export async function deleteConsumerGroups(kafka: Kafka, groupIds: readonly string[]): Promise<void> {
  if (groupIds.length === 0) return;
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.deleteGroups([...groupIds]);
  } catch {
    // best effort (GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP, broker gone)
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
