import { AggregateStore, type AggregateView } from './aggregate-store';

function agg(over: Partial<AggregateView>): AggregateView {
  const start = over.windowStart ?? '2030-01-01T00:00:00.000Z';
  const size = over.windowSizeSeconds ?? 10;
  const base: AggregateView = {
    windowKey: '',
    tenantId: 'demo',
    streamId: 'web',
    metric: 'page.view',
    dimensionKey: '',
    dimensionValue: '',
    windowSizeSeconds: size,
    windowSlideSeconds: over.windowSlideSeconds ?? size,
    windowStart: start,
    windowEnd: new Date(Date.parse(start) + size * 1000).toISOString(),
    count: 1,
    sum: 1,
    min: 1,
    max: 1,
    p50: 1,
    p95: 1,
    p99: 1,
    distinctCount: 1,
    lateEvents: 0,
    revision: 1,
    final: false,
    producer: 'stream-processor',
    computedAt: '2030-01-01T00:00:11.000Z',
    ...over,
  };
  base.windowKey =
    over.windowKey ??
    `demo|${base.streamId}|${base.metric}|${base.dimensionKey}=${base.dimensionValue}|${size}|${base.windowSlideSeconds}|${Date.parse(start)}`;
  return base;
}

describe('AggregateStore', () => {
  describe('apply', () => {
    it('keeps the highest revision of a window whatever the arrival order', () => {
      const store = new AggregateStore();
      expect(store.apply(agg({ revision: 2, count: 7 }))).toBe(true);
      expect(store.apply(agg({ revision: 1, count: 3 }))).toBe(false);
      expect(store.apply(agg({ revision: 2, count: 9 }))).toBe(false);
      expect(store.total({ windowSizeSeconds: 10 })).toBe(7);
      expect(store.apply(agg({ revision: 3, count: 8 }))).toBe(true);
      expect(store.total({ windowSizeSeconds: 10 })).toBe(8);
    });
  });

  describe('series', () => {
    it('aligns one line per metric on window starts, tumbling totals only', () => {
      const store = new AggregateStore();
      store.apply(agg({ windowStart: '2030-01-01T00:00:10.000Z', count: 5 }));
      store.apply(agg({ windowStart: '2030-01-01T00:00:00.000Z', count: 4 }));
      store.apply(agg({ metric: 'purchase', streamId: 'shop', windowStart: '2030-01-01T00:00:10.000Z', count: 2 }));
      store.apply(agg({ dimensionKey: 'country', dimensionValue: 'US', count: 100 })); // a dimension: not in the totals
      store.apply(agg({ windowSizeSeconds: 60, windowSlideSeconds: 10, count: 100 })); // hopping: overlaps, not plotted
      const t0 = Date.parse('2030-01-01T00:00:00Z') / 1000;
      expect(store.series({ windowSizeSeconds: 10 })).toEqual({
        x: [t0, t0 + 10],
        lines: [
          { metric: 'page.view', values: [4, 5] },
          { metric: 'purchase', values: [null, 2] },
        ],
      });
      expect(store.total({ windowSizeSeconds: 10 })).toBe(11);
      expect(store.total({ windowSizeSeconds: 10, metric: 'purchase' })).toBe(2);
    });
  });

  describe('latestByDimension', () => {
    it('takes the newest window per value, largest sum first', () => {
      const store = new AggregateStore();
      const dim = { metric: 'purchase', dimensionKey: 'country', windowSizeSeconds: 60 };
      store.apply(agg({ ...dim, dimensionValue: 'US', windowStart: '2030-01-01T00:00:00.000Z', sum: 999 }));
      store.apply(agg({ ...dim, dimensionValue: 'US', windowStart: '2030-01-01T00:01:00.000Z', sum: 10 }));
      store.apply(agg({ ...dim, dimensionValue: 'DE', windowStart: '2030-01-01T00:01:00.000Z', sum: 20 }));
      expect(store.latestByDimension('purchase', 'country', 60).map((a) => [a.dimensionValue, a.sum])).toEqual([
        ['DE', 20],
        ['US', 10],
      ]);
    });
  });

  describe('prune', () => {
    it('drops windows that started before the cutoff', () => {
      const store = new AggregateStore();
      store.apply(agg({ windowStart: '2030-01-01T00:00:00.000Z' }));
      store.apply(agg({ windowStart: '2030-01-01T00:10:00.000Z' }));
      store.prune(Date.parse('2030-01-01T00:05:00Z'));
      expect(store.size).toBe(1);
    });
  });
});
