import { analyticsV1 } from '@tessera/contracts';
import { compareStages, formatComparison } from './compare-stages';

const agg = (windowKey: string, patch: Partial<analyticsV1.WindowAggregate> = {}) =>
  analyticsV1.WindowAggregate.fromPartial({
    windowKey,
    revision: 3n,
    count: 10n,
    sum: 55,
    min: 1,
    max: 10,
    p50Approx: 5,
    p95Approx: 10,
    p99Approx: 10,
    distinctCount: 4n,
    lateEvents: 0n,
    final: true,
    maxEventTime: new Date(1000),
    computedAt: new Date(),
    ...patch,
  });

describe('compareStages', () => {
  it('compares final windows in both field by field, ignoring revision, computed_at and trace id', () => {
    const ts = new Map([
      ['a', agg('a')],
      ['b', agg('b')],
    ]);
    const go = new Map([
      ['a', agg('a', { revision: 7n, computedAt: new Date(0), traceId: 'x' })],
      ['b', agg('b', { distinctCount: 5n, maxEventTime: new Date(2000) })],
    ]);
    const c = compareStages(ts, go);
    expect(c).toMatchObject({ compared: 2, equal: 1, open: 0, onlyA: [], onlyB: [] });
    expect(c.differ).toEqual([
      {
        windowKey: 'b',
        fields: [
          { field: 'distinctCount', a: '4', b: '5' },
          { field: 'maxEventTime', a: '1970-01-01T00:00:01.000Z', b: '1970-01-01T00:00:02.000Z' },
        ],
      },
    ]);
    expect(formatComparison(c, { a: 'TS', b: 'Go' })[0]).toBe(
      '2 windows compared: 1 equal, 1 differ; 0 still open in one or both (not compared)',
    );
  });

  it('skips windows still open in either and lists final windows one side lacks', () => {
    const ts = new Map([
      ['open', agg('open', { final: false })],
      ['old', agg('old')],
      ['tsOpenOnly', agg('tsOpenOnly', { final: false })],
    ]);
    const go = new Map([
      ['open', agg('open', { count: 11n })],
      ['new', agg('new')],
    ]);
    const c = compareStages(ts, go);
    expect(c).toMatchObject({ compared: 0, equal: 0, differ: [], open: 1, onlyA: ['old'], onlyB: ['new'] });
    // Both stopped after the same input: open windows are compared too.
    const all = compareStages(ts, go, { includeOpen: true });
    expect(all).toMatchObject({ compared: 1, equal: 0, open: 0, onlyA: ['old', 'tsOpenOnly'], onlyB: ['new'] });
    expect(all.differ[0]?.fields.map((f) => f.field)).toEqual(['count', 'final']);
  });
});
