import type { Admin } from 'kafkajs';

/** Records of `topic` that `group` has not committed yet (every partition; a partition never committed counts whole). */
export async function groupLag(admin: Admin, group: string, topic: string): Promise<number> {
  const [ends, [committed]] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId: group, topics: [topic] })]);
  const done = new Map((committed?.partitions ?? []).map((p) => [p.partition, Math.max(0, Number(p.offset))]));
  return ends.reduce((sum, e) => sum + Math.max(0, Number(e.high) - (done.get(e.partition) ?? 0)), 0);
}
