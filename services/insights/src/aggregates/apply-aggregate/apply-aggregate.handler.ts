import { Injectable } from '@nestjs/common';
import { AggregateFeed } from '../../live/aggregate-feed';
import { type Aggregate, validateAggregate } from '../aggregate';
import { AggregateRepository } from '../aggregate.repository';
import { PipelineLatencyMetrics } from '../pipeline-latency.metrics';

export type ApplyOutcome = 'applied' | 'stale';

/**
 * Stores aggregate revisions that are newer than the stored ones and, only then, pushes them to live subscribers: a
 * duplicate or an older revision arriving late changes nothing and notifies nobody.
 */
@Injectable()
export class ApplyAggregateHandler {
  private readonly latency = new PipelineLatencyMetrics();

  constructor(
    private readonly repository: AggregateRepository,
    private readonly feed: AggregateFeed,
  ) {}

  /**
   * A fetched batch at once (one statement, see AggregateRepository.upsertManyIfNewer). Live subscribers get what
   * applying the revisions one by one would have pushed: per window, each revision of the batch newer than the stored
   * one and than the ones before it, in arrival order, once the newest of them is stored. Returns the counts.
   * Throws InvalidAggregateError before writing anything when one aggregate is invalid.
   */
  async executeMany(aggregates: Aggregate[]): Promise<Record<ApplyOutcome, number>> {
    const valid = aggregates.map(validateAggregate);
    const written = await this.repository.upsertManyIfNewer(valid);
    const seen = new Map<string, bigint>();
    let applied = 0;
    for (const a of valid) {
      const w = written.get(a.windowKey);
      if (!w?.applied) continue; // a stored revision was as new or newer: nothing of this window changed
      const high = seen.get(a.windowKey) ?? w.before ?? -1n;
      if (a.revision <= high) continue;
      seen.set(a.windowKey, a.revision);
      applied++;
      this.latency.visible(a);
      this.feed.publish(a);
    }
    return { applied, stale: valid.length - applied };
  }
}
