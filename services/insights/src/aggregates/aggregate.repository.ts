import { Injectable } from '@nestjs/common';
import type { Prisma, WindowAggregate as Row } from '../generated/prisma/client';
import { PrismaService } from '../platform/prisma.provider';
import type { Aggregate, TopNEntry } from './aggregate';

/** Filters shared by the series and top-N reads; `dimensionValue` undefined means every value. */
export interface AggregateFilter {
  tenantId: string;
  streamId?: string;
  metric?: string;
  dimensionKey: string;
  dimensionValue?: string;
  from: Date;
  to: Date;
}

/** Keyset position: the last (window_start, window_key) returned. */
export interface SeriesCursor {
  windowStart: Date;
  windowKey: string;
}

function toAggregate(r: Row): Aggregate {
  return {
    windowKey: r.windowKey,
    tenantId: r.tenantId,
    streamId: r.streamId,
    metric: r.metric,
    dimensionKey: r.dimensionKey,
    dimensionValue: r.dimensionValue,
    windowSizeSeconds: r.windowSizeSeconds,
    windowSlideSeconds: r.windowSlideSeconds,
    windowStart: r.windowStart,
    windowEnd: r.windowEnd,
    count: r.count,
    sum: r.sum,
    min: r.min,
    max: r.max,
    p50: r.p50,
    p95: r.p95,
    p99: r.p99,
    distinctCount: r.distinctCount,
    lateEvents: r.lateEvents,
    revision: r.revision,
    final: r.final,
    producer: r.producer,
    computedAt: r.computedAt,
    traceId: r.traceId,
    ...(r.maxEventTime ? { maxEventTime: r.maxEventTime } : {}),
  };
}

/** The columns of a series read, as Aggregate's field names (bigints as text: node-postgres returns int8 as a string). */
const SERIES_COLUMNS = `window_key AS "windowKey", tenant_id AS "tenantId", stream_id AS "streamId", metric, dimension_key AS "dimensionKey",
  dimension_value AS "dimensionValue", window_size_seconds AS "windowSizeSeconds", window_slide_seconds AS "windowSlideSeconds",
  window_start AS "windowStart", window_end AS "windowEnd", count::text AS count, sum, min, max, p50, p95, p99,
  distinct_count::text AS "distinctCount", late_events::text AS "lateEvents", revision::text AS revision, final, producer,
  computed_at AS "computedAt", trace_id AS "traceId", max_event_time AS "maxEventTime"`;

type SeriesRow = Omit<Aggregate, 'count' | 'distinctCount' | 'lateEvents' | 'revision' | 'maxEventTime'> & {
  count: string;
  distinctCount: string;
  lateEvents: string;
  revision: string;
  maxEventTime: Date | null;
};

function fromSeriesRow(r: SeriesRow): Aggregate {
  const { maxEventTime, ...rest } = r;
  return {
    ...rest,
    count: BigInt(r.count),
    distinctCount: BigInt(r.distinctCount),
    lateEvents: BigInt(r.lateEvents),
    revision: BigInt(r.revision),
    ...(maxEventTime ? { maxEventTime } : {}),
  };
}

/** The filter as SQL over window_aggregates, tumbling windows only (hopping ones overlap: a series would count twice). */
function seriesWhere(f: AggregateFilter): { where: string; values: unknown[] } {
  const values: unknown[] = [f.tenantId, f.dimensionKey, f.from, f.to];
  const parts = [
    'tenant_id = $1',
    'dimension_key = $2',
    'window_start >= $3',
    'window_start < $4',
    'window_slide_seconds = window_size_seconds',
  ];
  const add = (column: string, value: string | undefined) => {
    if (value === undefined) return;
    values.push(value);
    parts.push(`${column} = $${values.length}`);
  };
  add('stream_id', f.streamId || undefined);
  add('metric', f.metric || undefined);
  add('dimension_value', f.dimensionValue);
  return { where: parts.join(' AND '), values };
}

/** upsertManyIfNewer's one statement; $1 is the batch as a JSON array of rows. */
const UPSERT_MANY_IF_NEWER = `
      WITH input AS (
        SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(
          window_key text, tenant_id text, stream_id text, metric text, dimension_key text, dimension_value text,
          window_size_seconds int, window_slide_seconds int, window_start timestamptz, window_end timestamptz, count bigint,
          sum float8, min float8, max float8, p50 float8, p95 float8, p99 float8, distinct_count bigint, late_events bigint,
          revision bigint, final boolean, producer text, computed_at timestamptz, trace_id text, max_event_time timestamptz)
      ),
      -- MATERIALIZED, and the keys as an InitPlan array: inlined, this join was planned from jsonb_to_recordset's
      -- estimate of 100 rows as a nested loop re-scanning the whole input for every row (2,000 rows: 740 ms, of which
      -- the upsert itself 77 ms; now 60 ms in all, EXPLAIN ANALYZE; issue #11).
      stored AS MATERIALIZED (
        SELECT w.window_key, w.revision FROM window_aggregates w WHERE w.window_key = ANY (ARRAY(SELECT window_key FROM input))
      ),
      written AS (
        INSERT INTO window_aggregates AS t (
          window_key, tenant_id, stream_id, metric, dimension_key, dimension_value, window_size_seconds, window_slide_seconds,
          window_start, window_end, count, sum, min, max, p50, p95, p99, distinct_count, late_events, revision, final, producer,
          computed_at, trace_id, max_event_time, updated_at)
        SELECT window_key, tenant_id, stream_id, metric, dimension_key, dimension_value, window_size_seconds, window_slide_seconds,
          window_start, window_end, count, sum, min, max, p50, p95, p99, distinct_count, late_events, revision, final, producer,
          computed_at, trace_id, max_event_time, now()
        FROM input
        ON CONFLICT (window_key) DO UPDATE SET
          tenant_id = EXCLUDED.tenant_id, stream_id = EXCLUDED.stream_id, metric = EXCLUDED.metric,
          dimension_key = EXCLUDED.dimension_key, dimension_value = EXCLUDED.dimension_value,
          window_size_seconds = EXCLUDED.window_size_seconds, window_slide_seconds = EXCLUDED.window_slide_seconds,
          window_start = EXCLUDED.window_start, window_end = EXCLUDED.window_end,
          count = EXCLUDED.count, sum = EXCLUDED.sum, min = EXCLUDED.min, max = EXCLUDED.max,
          p50 = EXCLUDED.p50, p95 = EXCLUDED.p95, p99 = EXCLUDED.p99,
          distinct_count = EXCLUDED.distinct_count, late_events = EXCLUDED.late_events,
          revision = EXCLUDED.revision, final = EXCLUDED.final, producer = EXCLUDED.producer,
          computed_at = EXCLUDED.computed_at, trace_id = EXCLUDED.trace_id, max_event_time = EXCLUDED.max_event_time, updated_at = now()
        WHERE t.revision < EXCLUDED.revision
        RETURNING t.window_key
      )
      -- One text value, not a row per window: Prisma's unpacking of raw result rows was a quarter of this process's busy
      -- CPU while applying a backlog (issue #11); JSON.parse does it natively. Revisions as text: bigint.
      SELECT coalesce(json_agg(json_build_array(w.window_key, s.revision::text))::text, '[]') AS written
      FROM written w LEFT JOIN stored s ON s.window_key = w.window_key`;

/** The Prisma side of the read model; Prisma types stay in this file. */
@Injectable()
export class AggregateRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Stores a batch of revisions in one statement: per window key only the newest revision of the batch goes in (the
   * others could never be read: a reader sees the newest), and only where it is newer than the stored row, decided in
   * the statement itself (no read-then-write race between two consumers after a rebalance). Returns per key the
   * statement changed the revision stored before it (null: no row), so the caller can tell which revisions changed what a
   * reader sees; keys it did not change (a stored revision was as new or newer) are absent.
   *
   * The batch travels as one jsonb parameter expanded by jsonb_to_recordset: one parse and one plan for any batch size.
   */
  async upsertManyIfNewer(batch: Aggregate[]): Promise<Map<string, { before: bigint | null; applied: boolean }>> {
    const newest = new Map<string, Aggregate>();
    for (const a of batch) {
      const held = newest.get(a.windowKey);
      if (!held || a.revision > held.revision) newest.set(a.windowKey, a);
    }
    const rows = [...newest.values()].map((a) => ({
      window_key: a.windowKey,
      tenant_id: a.tenantId,
      stream_id: a.streamId,
      metric: a.metric,
      dimension_key: a.dimensionKey,
      dimension_value: a.dimensionValue,
      window_size_seconds: a.windowSizeSeconds,
      window_slide_seconds: a.windowSlideSeconds,
      window_start: a.windowStart.toISOString(),
      window_end: a.windowEnd.toISOString(),
      count: a.count.toString(),
      sum: a.sum,
      min: a.min,
      max: a.max,
      p50: a.p50,
      p95: a.p95,
      p99: a.p99,
      distinct_count: a.distinctCount.toString(),
      late_events: a.lateEvents.toString(),
      revision: a.revision.toString(),
      final: a.final,
      producer: a.producer,
      computed_at: a.computedAt.toISOString(),
      trace_id: a.traceId,
      max_event_time: a.maxEventTime?.toISOString() ?? null,
    }));
    // Through node-postgres, not Prisma: the batch goes as the one text parameter it is (see createDatabaseClients).
    const {
      rows: [result],
    } = await this.prisma.pool.query<{ written: string }>(UPSERT_MANY_IF_NEWER, [JSON.stringify(rows)]);
    const changed = JSON.parse(result?.written ?? '[]') as Array<[string, string | null]>;
    return new Map(changed.map(([key, before]) => [key, { before: before === null ? null : BigInt(before), applied: true }]));
  }

  async findByKey(windowKey: string): Promise<Aggregate | undefined> {
    const row = await this.prisma.client.windowAggregate.findUnique({ where: { windowKey } });
    return row ? toAggregate(row) : undefined;
  }

  /** The smallest tumbling window size with data matching `filter`, if any. */
  async smallestResolution(filter: AggregateFilter): Promise<number | undefined> {
    const { where, values } = seriesWhere(filter);
    const { rows } = await this.prisma.pool.query<{ s: number }>(
      `SELECT min(window_size_seconds) AS s FROM window_aggregates WHERE ${where}`,
      values,
    );
    return rows[0]?.s ?? undefined;
  }

  /**
   * Tumbling windows of one size starting in [from, to), ordered by (window_start, window_key), after `cursor`.
   * Through node-postgres, not Prisma: for a page of 60 windows Prisma's query compiler and row mapping cost insights
   * ~2.8 ms of CPU per request, most of the route's cost (issue #12); the statement is the one Prisma sent.
   */
  async series(filter: AggregateFilter, windowSizeSeconds: number, limit: number, cursor?: SeriesCursor): Promise<Aggregate[]> {
    const { where, values } = seriesWhere(filter);
    values.push(windowSizeSeconds);
    let sql = `SELECT ${SERIES_COLUMNS} FROM window_aggregates WHERE ${where} AND window_size_seconds = $${values.length}`;
    if (cursor) {
      values.push(cursor.windowStart, cursor.windowKey);
      sql += ` AND (window_start, window_key) > ($${values.length - 1}, $${values.length})`;
    }
    values.push(limit);
    sql += ` ORDER BY window_start, window_key LIMIT $${values.length}`;
    const { rows } = await this.prisma.pool.query<SeriesRow>(sql, values);
    return rows.map(fromSeriesRow);
  }

  /** Dimension values ranked by total sum (or count) over the tumbling windows of one size in the range. */
  async topN(filter: AggregateFilter, windowSizeSeconds: number, limit: number, orderBy: 'sum' | 'count'): Promise<TopNEntry[]> {
    const groups = await this.prisma.client.windowAggregate.groupBy({
      by: ['dimensionValue'],
      where: { ...this.where(filter), windowSizeSeconds },
      _sum: { count: true, sum: true },
      orderBy: [{ _sum: { [orderBy]: 'desc' } }, { dimensionValue: 'asc' }],
      take: limit,
    });
    return groups.map((g) => ({ dimensionValue: g.dimensionValue, count: g._sum.count ?? 0n, sum: g._sum.sum ?? 0 }));
  }

  private where(f: AggregateFilter): Prisma.WindowAggregateWhereInput {
    return {
      tenantId: f.tenantId,
      dimensionKey: f.dimensionKey,
      windowStart: { gte: f.from, lt: f.to },
      // Tumbling only: hopping windows overlap, so a series or a sum over them would count events several times.
      windowSlideSeconds: { equals: this.prisma.client.windowAggregate.fields.windowSizeSeconds },
      ...(f.streamId ? { streamId: f.streamId } : {}),
      ...(f.metric ? { metric: f.metric } : {}),
      ...(f.dimensionValue !== undefined ? { dimensionValue: f.dimensionValue } : {}),
    };
  }
}
