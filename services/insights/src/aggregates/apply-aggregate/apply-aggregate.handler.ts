import { Injectable } from '@nestjs/common';
import { AggregateFeed } from '../../live/aggregate-feed';
import { type Aggregate, validateAggregate } from '../aggregate';
import { AggregateRepository } from '../aggregate.repository';
import { PipelineLatencyMetrics } from '../pipeline-latency.metrics';

export type ApplyOutcome = 'applied' | 'stale';

/**
 * Stores one aggregate revision if it is newer than the stored one and, only then, pushes it to live
 * subscribers: a duplicate or an older revision arriving late changes nothing and notifies nobody.
 */
@Injectable()
export class ApplyAggregateHandler {
  private readonly latency = new PipelineLatencyMetrics();

  constructor(
    private readonly repository: AggregateRepository,
    private readonly feed: AggregateFeed,
  ) {}

  async execute(aggregate: Aggregate): Promise<ApplyOutcome> {
    const valid = validateAggregate(aggregate);
    const applied = await this.repository.upsertIfNewer(valid);
    if (!applied) return 'stale';
    this.latency.visible(valid);
    this.feed.publish(valid);
    return 'applied';
  }
}
