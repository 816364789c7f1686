import { Inject, Injectable } from '@nestjs/common';
import type { FieldViolation } from '@tessera/errors';
import { type InsightsConfig, INSIGHTS_CONFIG } from '../../config';
import type { TopNEntry } from '../aggregate';
import { type AggregateFilter, AggregateRepository } from '../aggregate.repository';
import { invalidRequest } from '../insights.errors';
import { resolveRange } from '../time-range';

export const DEFAULT_TOP_N = 10;
export const MAX_TOP_N = 100;

export interface GetTopNQuery {
  tenantId: string;
  metric: string;
  dimensionKey: string;
  from?: Date | undefined;
  to?: Date | undefined;
  /** 0 = default. */
  limit: number;
  /** "" = sum. */
  orderBy: string;
}

/**
 * The dimension values with the largest sum (or count) over [from, to). Sums run over the tumbling windows of
 * ONE size (the smallest with data): the same events are in the 10 s and the 60 s windows, and hopping
 * windows overlap, so mixing sizes would count them several times.
 */
@Injectable()
export class GetTopNHandler {
  constructor(
    @Inject(INSIGHTS_CONFIG) private readonly config: InsightsConfig,
    private readonly repository: AggregateRepository,
  ) {}

  async execute(q: GetTopNQuery): Promise<TopNEntry[]> {
    const violations: FieldViolation[] = [];
    if (!q.tenantId) violations.push({ field: 'tenant_id', description: 'required' });
    if (!q.metric) violations.push({ field: 'metric', description: 'required' });
    if (!q.dimensionKey) violations.push({ field: 'dimension_key', description: 'required (the attribute to rank the values of)' });
    if (q.limit < 0 || q.limit > MAX_TOP_N)
      violations.push({ field: 'limit', description: `must be 1 to ${MAX_TOP_N} (0 = ${DEFAULT_TOP_N})` });
    if (q.orderBy !== '' && q.orderBy !== 'sum' && q.orderBy !== 'count')
      violations.push({ field: 'order_by', description: 'must be "sum" or "count"' });
    const range = resolveRange(
      q.from,
      q.to,
      { defaultRangeMs: this.config.INSIGHTS_DEFAULT_RANGE_MS, maxRangeMs: this.config.INSIGHTS_MAX_RANGE_MS },
      violations,
    );
    if (violations.length > 0) throw invalidRequest(violations);

    const filter: AggregateFilter = { tenantId: q.tenantId, metric: q.metric, dimensionKey: q.dimensionKey, ...range };
    const resolution = await this.repository.smallestResolution(filter);
    if (resolution === undefined) return [];
    return this.repository.topN(filter, resolution, q.limit || DEFAULT_TOP_N, q.orderBy === 'count' ? 'count' : 'sum');
  }
}
