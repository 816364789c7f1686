import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '@tessera/errors';
import type { Admin } from 'kafkajs';
import { type GatewayConfig, GATEWAY_CONFIG } from '../config';
import { KAFKA_ADMIN } from '../peers/peers.module';
import { type ConsumerLagReport, type GroupLag, groupMatcher, partitionLags, sumLag } from './consumer-lag';

/** Enough for a dashboard; a broker littered with test groups must not make one request fan out without bound. */
const MAX_GROUPS = 50;

/**
 * Consumer lag per group from the gateway's existing Kafka admin connection: committed offsets vs log end
 * offsets, for the groups GATEWAY_LAG_GROUPS names. Read-only, no consumer joins any group.
 */
@Injectable()
export class ConsumerLagService {
  private readonly matches: (groupId: string) => boolean;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(KAFKA_ADMIN) private readonly admin: Admin,
  ) {
    this.matches = groupMatcher(config.GATEWAY_LAG_GROUPS);
  }

  async report(): Promise<ConsumerLagReport> {
    return this.withTimeout(this.collect());
  }

  private async collect(): Promise<ConsumerLagReport> {
    const { groups } = await this.admin.listGroups();
    const ids = groups
      .filter((g) => (g.protocolType === 'consumer' || g.protocolType === '') && this.matches(g.groupId))
      .map((g) => g.groupId)
      .sort()
      .slice(0, MAX_GROUPS);
    if (ids.length === 0) return { at: new Date().toISOString(), groups: [] };
    const described = new Map((await this.admin.describeGroups(ids)).groups.map((g) => [g.groupId, g]));
    const ends = new Map<string, Promise<{ partition: number; high: string }[]>>();
    const endsOf = (topic: string) => {
      if (!ends.has(topic)) ends.set(topic, this.admin.fetchTopicOffsets(topic));
      return ends.get(topic) as Promise<{ partition: number; high: string }[]>;
    };
    const report: GroupLag[] = await Promise.all(
      ids.map(async (groupId) => {
        const committed = await this.admin.fetchOffsets({ groupId });
        const topics = await Promise.all(
          committed.map(async ({ topic, partitions }) => {
            const lags = partitionLags(partitions, await endsOf(topic));
            return { topic, lag: sumLag(lags), partitions: lags };
          }),
        );
        topics.sort((a, b) => a.topic.localeCompare(b.topic));
        const group = described.get(groupId);
        return {
          groupId,
          state: group?.state ?? 'Unknown',
          members: group?.members.length ?? 0,
          lag: topics.reduce((n, t) => n + t.lag, 0),
          topics,
        };
      }),
    );
    return { at: new Date().toISOString(), groups: report };
  }

  private withTimeout<T>(work: Promise<T>): Promise<T> {
    const ms = this.config.GATEWAY_GRPC_DEADLINE_MS;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new AppError({
              code: 'OPS.KAFKA_UNAVAILABLE',
              kind: 'UNAVAILABLE',
              message: `Kafka did not answer the lag query within ${ms} ms`,
            }),
          ),
        ms,
      );
      work.then(
        (value) => (clearTimeout(timer), resolve(value)),
        (err: unknown) => {
          clearTimeout(timer);
          reject(
            new AppError({
              code: 'OPS.KAFKA_UNAVAILABLE',
              kind: 'UNAVAILABLE',
              message: 'Kafka could not report consumer offsets',
              cause: err,
            }),
          );
        },
      );
    });
  }
}
