import type { Aggregate } from '../../src/aggregates/aggregate';

/** A valid 10 s tumbling total of acme/web/page.view; override what a test varies. */
export function sampleAggregate(over: Partial<Aggregate> = {}): Aggregate {
  const start = new Date('2026-01-01T00:00:00.000Z');
  return {
    windowKey: `acme|web|page.view|=|10|10|${start.getTime()}`,
    tenantId: 'acme',
    streamId: 'web',
    metric: 'page.view',
    dimensionKey: '',
    dimensionValue: '',
    windowSizeSeconds: 10,
    windowSlideSeconds: 10,
    windowStart: start,
    windowEnd: new Date(start.getTime() + 10_000),
    count: 3n,
    sum: 6,
    min: 1,
    max: 3,
    p50: 2,
    p95: 3,
    p99: 3,
    distinctCount: 2n,
    lateEvents: 0n,
    revision: 1n,
    final: false,
    producer: 'stream-processor',
    computedAt: new Date(start.getTime() + 15_000),
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    maxEventTime: new Date(start.getTime() + 8_250),
    ...over,
  };
}
