import { Inject, Injectable } from '@nestjs/common';
import type { FieldViolation } from '@tessera/errors';
import { type InsightsConfig, INSIGHTS_CONFIG } from '../../config';
import type { Aggregate } from '../aggregate';
import { type AggregateFilter, AggregateRepository } from '../aggregate.repository';
import { invalidPageToken, invalidRequest } from '../insights.errors';
import { resolveRange } from '../time-range';
import { decodePageToken, encodePageToken, queryHashOf } from './page-token';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

export interface GetAggregatesQuery {
  tenantId: string;
  streamId: string;
  metric: string;
  /** "" = the totals. */
  dimensionKey: string;
  /** "" = every value of dimensionKey. */
  dimensionValue: string;
  from?: Date | undefined;
  to?: Date | undefined;
  /** 0 = the smallest tumbling window size with data. */
  windowSizeSeconds: number;
  pageSize: number;
  pageToken: string;
}

export interface AggregatePage {
  aggregates: Aggregate[];
  nextPageToken: string;
  /** The window size served (useful when the caller asked for 0). */
  resolution: number;
}

/** A time series of one resolution: tumbling windows starting in [from, to), by window start, keyset-paginated. */
@Injectable()
export class GetAggregatesHandler {
  constructor(
    @Inject(INSIGHTS_CONFIG) private readonly config: InsightsConfig,
    private readonly repository: AggregateRepository,
  ) {}

  async execute(q: GetAggregatesQuery): Promise<AggregatePage> {
    const violations: FieldViolation[] = [];
    if (!q.tenantId) violations.push({ field: 'tenant_id', description: 'required' });
    if (q.dimensionKey === '' && q.dimensionValue !== '')
      violations.push({ field: 'dimension_value', description: 'requires dimension_key' });
    if (q.windowSizeSeconds < 0)
      violations.push({ field: 'window_size_seconds', description: 'must be 0 (smallest) or a window size in seconds' });
    if (q.pageSize < 0 || q.pageSize > MAX_PAGE_SIZE)
      violations.push({ field: 'page.page_size', description: `must be 0 (default ${DEFAULT_PAGE_SIZE}) to ${MAX_PAGE_SIZE}` });
    const range = resolveRange(
      q.from,
      q.to,
      { defaultRangeMs: this.config.INSIGHTS_DEFAULT_RANGE_MS, maxRangeMs: this.config.INSIGHTS_MAX_RANGE_MS },
      violations,
    );
    if (violations.length > 0) throw invalidRequest(violations);

    const filter: AggregateFilter = {
      tenantId: q.tenantId,
      dimensionKey: q.dimensionKey,
      ...range,
      ...(q.streamId ? { streamId: q.streamId } : {}),
      ...(q.metric ? { metric: q.metric } : {}),
      ...(q.dimensionValue ? { dimensionValue: q.dimensionValue } : {}),
    };
    // Explicit from/to only: with defaults ("the last hour") the range moves, and the token must still fit.
    const queryHash = queryHashOf({ ...filter, from: q.from?.getTime() ?? null, to: q.to?.getTime() ?? null, size: q.windowSizeSeconds });
    const token = q.pageToken ? decodePageToken(q.pageToken) : undefined;
    if (q.pageToken && (!token || token.queryHash !== queryHash)) throw invalidPageToken();

    const resolution = token?.resolution ?? (q.windowSizeSeconds || (await this.repository.smallestResolution(filter)));
    if (resolution === undefined) return { aggregates: [], nextPageToken: '', resolution: 0 };

    const limit = q.pageSize || DEFAULT_PAGE_SIZE;
    const rows = await this.repository.series(filter, resolution, limit + 1, token);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    const nextPageToken =
      rows.length > limit && last
        ? encodePageToken({ resolution, windowStart: last.windowStart, windowKey: last.windowKey, queryHash })
        : '';
    return { aggregates: page, nextPageToken, resolution };
  }
}
