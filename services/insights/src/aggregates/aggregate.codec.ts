import { analyticsV1 } from '@tessera/contracts';
import type { Aggregate, TopNEntry } from './aggregate';

const EPOCH = new Date(Number.NaN);

/** Wire -> domain. Int64 window sizes fit a number for any sane window; the validator bounds them. */
export function aggregateFromProto(m: analyticsV1.WindowAggregate): Aggregate {
  return {
    windowKey: m.windowKey,
    tenantId: m.tenantId,
    streamId: m.streamId,
    metric: m.metric,
    dimensionKey: m.dimensionKey,
    dimensionValue: m.dimensionValue,
    windowSizeSeconds: Number(m.windowSizeSeconds),
    windowSlideSeconds: Number(m.windowSlideSeconds),
    windowStart: m.windowStart ?? EPOCH,
    windowEnd: m.windowEnd ?? EPOCH,
    count: m.count,
    sum: m.sum,
    min: m.min,
    max: m.max,
    p50: m.p50Approx,
    p95: m.p95Approx,
    p99: m.p99Approx,
    distinctCount: m.distinctCount,
    lateEvents: m.lateEvents,
    revision: m.revision,
    final: m.final,
    producer: m.producer,
    computedAt: m.computedAt ?? new Date(0),
    traceId: m.traceId,
    ...(m.maxEventTime ? { maxEventTime: m.maxEventTime } : {}),
  };
}

export function aggregateToProto(a: Aggregate): analyticsV1.WindowAggregate {
  return analyticsV1.WindowAggregate.fromPartial({
    windowKey: a.windowKey,
    tenantId: a.tenantId,
    streamId: a.streamId,
    metric: a.metric,
    dimensionKey: a.dimensionKey,
    dimensionValue: a.dimensionValue,
    windowSizeSeconds: BigInt(a.windowSizeSeconds),
    windowSlideSeconds: BigInt(a.windowSlideSeconds),
    windowStart: a.windowStart,
    windowEnd: a.windowEnd,
    count: a.count,
    sum: a.sum,
    min: a.min,
    max: a.max,
    p50Approx: a.p50,
    p95Approx: a.p95,
    p99Approx: a.p99,
    distinctCount: a.distinctCount,
    lateEvents: a.lateEvents,
    revision: a.revision,
    final: a.final,
    producer: a.producer,
    computedAt: a.computedAt,
    traceId: a.traceId,
    maxEventTime: a.maxEventTime,
  });
}

export function topNEntryToProto(e: TopNEntry): analyticsV1.TopNEntry {
  return { dimensionValue: e.dimensionValue, count: e.count, sum: e.sum };
}
