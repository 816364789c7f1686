import { analyticsV1 } from '@tessera/contracts';
import { z } from 'zod';

/** Tenant ids as @tessera/auth accepts them (API key tenants, JWT `tenant` claims). */
export const tenantId = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 . _ -');
const name = (what: string) => z.string().min(1, 'must not be empty').max(128, `${what} must be at most 128 characters`);
/** Credentials in the URL, only on the live route: EventSource cannot send headers (URLs get logged, so nowhere else). */
export const apiKeyParam = z
  .string()
  .max(256, 'must be at most 256 characters')
  .optional()
  .meta({ description: 'The tenant API key, for clients that cannot send X-Api-Key (EventSource)' });
export const accessTokenParam = z
  .string()
  .max(8192, 'must be at most 8192 characters')
  .optional()
  .meta({ description: 'A bearer JWT, for clients that cannot send Authorization (EventSource)' });
const instant = z.iso
  .datetime({ offset: true, message: 'must be an ISO 8601 date-time, e.g. 2026-01-01T12:00:00Z' })
  .transform((value) => new Date(value))
  .meta({ examples: ['2026-01-01T12:00:00Z'] });

export const MAX_SERIES_PAGE = 1000;

export const aggregatesQuery = z
  .object({
    tenantId,
    streamId: name('streamId').optional(),
    metric: name('metric').optional(),
    dimensionKey: name('dimensionKey').optional().meta({ description: 'Attribute to split by; omit for the totals' }),
    dimensionValue: z.string().max(256).optional().meta({ description: 'One value of dimensionKey; omit for every value' }),
    from: instant.optional().meta({ description: 'Windows starting at or after (default: to - 1 h)' }),
    to: instant.optional().meta({ description: 'Windows starting before (default: now)' }),
    resolution: z.coerce
      .number()
      .int('must be an integer')
      .min(1, 'must be a window size in seconds')
      .max(604_800)
      .optional()
      .meta({ description: 'Window size in seconds; default the smallest with data' }),
    pageSize: z.coerce
      .number()
      .int('must be an integer')
      .min(1, `must be 1 to ${MAX_SERIES_PAGE}`)
      .max(MAX_SERIES_PAGE, `must be 1 to ${MAX_SERIES_PAGE}`)
      .optional(),
    pageToken: z.string().max(512, 'must be at most 512 characters').optional(),
  })
  .strict()
  .refine((q) => q.dimensionValue === undefined || q.dimensionKey !== undefined, {
    message: 'requires dimensionKey',
    path: ['dimensionValue'],
  });
export type AggregatesQuery = z.infer<typeof aggregatesQuery>;

export const topQuery = z
  .object({
    tenantId,
    metric: name('metric'),
    dimensionKey: name('dimensionKey'),
    from: instant.optional(),
    to: instant.optional(),
    limit: z.coerce.number().int('must be an integer').min(1, 'must be 1 to 100').max(100, 'must be 1 to 100').optional(),
    orderBy: z.enum(['sum', 'count']).optional(),
  })
  .strict();
export type TopQuery = z.infer<typeof topQuery>;

export const liveQuery = z
  .object({
    tenantId,
    streamId: name('streamId').optional(),
    metric: name('metric').optional(),
    apiKey: apiKeyParam,
    access_token: accessTokenParam,
  })
  .strict();
export type LiveQuery = z.infer<typeof liveQuery>;

export function toGetAggregatesRequest(q: AggregatesQuery): analyticsV1.GetAggregatesRequest {
  return analyticsV1.GetAggregatesRequest.fromPartial({
    tenantId: q.tenantId,
    streamId: q.streamId ?? '',
    metric: q.metric ?? '',
    dimensionKey: q.dimensionKey ?? '',
    dimensionValue: q.dimensionValue ?? '',
    from: q.from,
    to: q.to,
    windowSizeSeconds: BigInt(q.resolution ?? 0),
    page: { pageSize: q.pageSize ?? 0, pageToken: q.pageToken ?? '' },
  });
}

export function toGetTopNRequest(q: TopQuery): analyticsV1.GetTopNRequest {
  return analyticsV1.GetTopNRequest.fromPartial({
    tenantId: q.tenantId,
    metric: q.metric,
    dimensionKey: q.dimensionKey,
    from: q.from,
    to: q.to,
    limit: q.limit ?? 0,
    orderBy: q.orderBy ?? '',
  });
}

/** Counters are JSON numbers: they stay far below 2^53 (unlike money, which is a decimal string). */
export const aggregateView = z.object({
  windowKey: z.string(),
  tenantId: z.string(),
  streamId: z.string(),
  metric: z.string(),
  dimensionKey: z.string(),
  dimensionValue: z.string(),
  windowSizeSeconds: z.number(),
  windowSlideSeconds: z.number(),
  windowStart: z.string().nullable(),
  windowEnd: z.string().nullable(),
  count: z.number(),
  sum: z.number(),
  min: z.number(),
  max: z.number(),
  p50: z.number(),
  p95: z.number(),
  p99: z.number(),
  distinctCount: z.number(),
  lateEvents: z.number(),
  revision: z.number(),
  final: z.boolean(),
  producer: z.string(),
  computedAt: z.string().nullable(),
  /** W3C trace id of the processor step that emitted this revision (not of one event); null when untraced. */
  traceId: z.string().nullable(),
});
export type AggregateView = z.infer<typeof aggregateView>;
export const aggregatePageView = z.object({ items: z.array(aggregateView), nextPageToken: z.string().nullable() });

export const topEntryView = z.object({ dimensionValue: z.string(), count: z.number(), sum: z.number() });
export const topView = z.object({ items: z.array(topEntryView) });
export type TopView = z.infer<typeof topView>;

export function toAggregateView(a: analyticsV1.WindowAggregate): AggregateView {
  return {
    windowKey: a.windowKey,
    tenantId: a.tenantId,
    streamId: a.streamId,
    metric: a.metric,
    dimensionKey: a.dimensionKey,
    dimensionValue: a.dimensionValue,
    windowSizeSeconds: Number(a.windowSizeSeconds),
    windowSlideSeconds: Number(a.windowSlideSeconds),
    windowStart: a.windowStart?.toISOString() ?? null,
    windowEnd: a.windowEnd?.toISOString() ?? null,
    count: Number(a.count),
    sum: a.sum,
    min: a.min,
    max: a.max,
    p50: a.p50Approx,
    p95: a.p95Approx,
    p99: a.p99Approx,
    distinctCount: Number(a.distinctCount),
    lateEvents: Number(a.lateEvents),
    revision: Number(a.revision),
    final: a.final,
    producer: a.producer,
    computedAt: a.computedAt?.toISOString() ?? null,
    traceId: a.traceId === '' ? null : a.traceId,
  };
}

export function toTopView(res: analyticsV1.GetTopNResponse): TopView {
  return { items: res.entries.map((e) => ({ dimensionValue: e.dimensionValue, count: Number(e.count), sum: e.sum })) };
}
