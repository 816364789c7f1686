import { z } from 'zod';

/** `GET /v1/ops/consumer-lag` body. Offsets are int64 on the wire, so strings; lag fits a JSON number. */
export const partitionLagView = z.object({
  partition: z.number().int(),
  committed: z.string().nullable().meta({ description: 'Committed offset; null when the group never committed on this partition' }),
  end: z.string().meta({ description: 'Log end offset (high watermark)' }),
  lag: z.number().int().nullable().meta({ description: 'end - committed; null without a commit' }),
});
export const groupLagView = z.object({
  groupId: z.string(),
  state: z.string().meta({ description: 'Stable, Empty (no live member: lag grows), PreparingRebalance, ...' }),
  members: z.number().int(),
  lag: z.number().int().meta({ description: 'Sum over its partitions' }),
  topics: z.array(z.object({ topic: z.string(), lag: z.number().int(), partitions: z.array(partitionLagView) })),
});
export const consumerLagView = z.object({ at: z.string(), groups: z.array(groupLagView) });
export type PartitionLag = z.infer<typeof partitionLagView>;
export type GroupLag = z.infer<typeof groupLagView>;
export type ConsumerLagReport = z.infer<typeof consumerLagView>;

/**
 * `GATEWAY_LAG_GROUPS` entries: an exact group id, or `prefix.*` for every group of one service
 * (`<service>.<purpose>` is the house naming rule, so a service's groups share its name as prefix).
 */
export function groupMatcher(patterns: readonly string[]): (groupId: string) => boolean {
  const exact = new Set(patterns.filter((p) => !p.endsWith('*')));
  const prefixes = patterns.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1));
  return (groupId) => exact.has(groupId) || prefixes.some((p) => groupId.startsWith(p));
}

/**
 * Lag of one group on one topic: committed offsets (kafkajs reports "-1" for none) against the log end.
 * A committed offset past the end (a topic recreated under the group) counts as 0, not negative lag.
 */
export function partitionLags(
  committed: { partition: number; offset: string }[],
  ends: { partition: number; high: string }[],
): PartitionLag[] {
  const byPartition = new Map(committed.map((c) => [c.partition, c.offset]));
  return ends
    .map(({ partition, high }) => {
      const offset = byPartition.get(partition);
      if (offset === undefined || BigInt(offset) < 0n) return { partition, committed: null, end: high, lag: null };
      const lag = BigInt(high) - BigInt(offset);
      return { partition, committed: offset, end: high, lag: Number(lag > 0n ? lag : 0n) };
    })
    .sort((a, b) => a.partition - b.partition);
}

export function sumLag(partitions: readonly { lag: number | null }[]): number {
  return partitions.reduce((n, p) => n + (p.lag ?? 0), 0);
}
