import { offlineAggregates } from '../../test/support/offline-aggregates';
import { PartitionState, type AggregationOptions, type EmittedAggregate } from './partition-state';
import type { InputRecord, NormalizedEvent } from './processing.types';

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const options: AggregationOptions = {
  windows: [
    { sizeMs: 10_000, slideMs: 10_000 },
    { sizeMs: 60_000, slideMs: 10_000 },
  ],
  dimensions: ['country'],
  distinctAttribute: 'user_id',
  allowedLatenessMs: 30_000,
  watermarkDelayMs: 5_000,
  dedupeHorizonMs: 600_000,
  closedRetentionMs: 120_000,
  maxFutureSkewMs: 3_600_000,
  hllPrecision: 11,
  sketchAlpha: 0.01,
};

function ev(id: string, atMs: number, value: number, attrs: Record<string, string> = {}): NormalizedEvent {
  return {
    tenantId: 't1',
    streamId: 's1',
    eventId: id,
    eventTimeMs: atMs,
    measurements: [{ metric: 'm', value }],
    attributes: { country: 'DE', user_id: `u${value % 7}`, ...attrs },
  };
}

let offset = 0;
function rec(e: NormalizedEvent): InputRecord {
  return { kind: 'event', event: e, offset: String(offset++), key: null, value: Buffer.from(e.eventId), timestampMs: e.eventTimeMs };
}

/** Latest revision per window key. */
function latest(aggs: EmittedAggregate[]): Map<string, EmittedAggregate> {
  const m = new Map<string, EmittedAggregate>();
  for (const a of aggs) if ((m.get(a.windowKey)?.revision ?? 0) < a.revision) m.set(a.windowKey, a);
  return m;
}

describe(PartitionState, () => {
  it('refuses a window family listed twice (each event would land in the same window twice)', () => {
    expect(
      () =>
        new PartitionState({
          ...options,
          windows: [
            { sizeMs: 10_000, slideMs: 10_000 },
            { sizeMs: 10_000, slideMs: 10_000 },
          ],
        }),
    ).toThrow('a window family is listed twice');
  });

  describe('processBatch', () => {
    it('counts a duplicate event id once', () => {
      const s = new PartitionState(options);
      const out = s.processBatch([rec(ev('a', T0, 5)), rec(ev('a', T0, 5)), rec(ev('b', T0 + 1, 7))]);
      expect(out.stats).toMatchObject({ events: 2, duplicates: 1 });
      const total = latest(out.aggregates).get(`t1|s1|m|=|10|10|${T0}`);
      expect(total?.summary).toMatchObject({ count: 2, sum: 12, min: 5, max: 7, distinct: 2 });
    });

    it('emits at most one revision per window key per batch (a batch is one transaction)', () => {
      const s = new PartitionState(options);
      const batch = Array.from({ length: 300 }, (_, i) => rec(ev(`r${i}`, T0 + (i % 30) * 1_000, i, { country: i % 2 ? 'DE' : 'FR' })));
      const out = s.processBatch(batch);
      const keys = out.aggregates.map((a) => a.windowKey);
      expect(keys.length).toBeGreaterThan(10);
      expect(new Set(keys).size).toBe(keys.length);
      expect(out.changelog.filter((c) => c.key.startsWith('w|')).length).toBe(keys.length);
      const next = s.processBatch(batch.map((_, i) => rec(ev(`s${i}`, T0 + (i % 30) * 1_000, i))));
      expect(new Set(next.aggregates.map((a) => a.windowKey)).size).toBe(next.aggregates.length);
      expect(Math.max(...next.aggregates.map((a) => a.revision))).toBe(2); // the next batch: each window's next revision
    });

    it('aggregates an out-of-order event within the allowed lateness into its window', () => {
      const s = new PartitionState(options);
      s.processBatch([rec(ev('a', T0 + 40_000, 1))]); // watermark T0+35s: window [T0, T0+10s) open until T0+40s
      const out = s.processBatch([rec(ev('b', T0 + 1_000, 3))]);
      expect(out.deadLetters).toHaveLength(0);
      expect(latest(out.aggregates).get(`t1|s1|m|=|10|10|${T0}`)?.summary.count).toBe(1);
    });

    it('routes a too-late event to the DLQ as LATE and counts it on the closed window', () => {
      const s = new PartitionState(options);
      s.processBatch([rec(ev('a', T0 + 1_000, 1))]);
      const closing = s.processBatch([rec(ev('b', T0 + 50_000, 1))]); // watermark T0+45s >= end + lateness
      const closed = latest(closing.aggregates).get(`t1|s1|m|=|10|10|${T0}`);
      expect(closed).toMatchObject({ final: true, late: 0, closing: true });
      const out = s.processBatch([rec(ev('c', T0 + 2_000, 9))]);
      expect(out.deadLetters).toEqual([expect.objectContaining({ code: 'LATE', offset: expect.any(String) })]);
      const after = latest(out.aggregates).get(`t1|s1|m|=|10|10|${T0}`);
      expect(after).toMatchObject({ final: true, late: 1, revision: (closed?.revision ?? 0) + 1, closing: false });
      expect(after?.summary.count).toBe(1);
      expect(after?.summary.maxEventTimeMs).toBe(T0 + 1_000); // the late event (T0+2s) was not aggregated
      // Still inside the 60 s hopping window that ends at T0+60s (open until T0+90s).
      expect(latest(out.aggregates).get(`t1|s1|m|=|60|10|${T0}`)?.summary.count).toBe(3);
    });

    it('reports the newest aggregated event time of each window, not the newest seen on the partition', () => {
      const s = new PartitionState(options);
      const out = s.processBatch([rec(ev('a', T0 + 4_000, 1)), rec(ev('b', T0 + 2_000, 1)), rec(ev('c', T0 + 12_000, 1))]);
      const aggs = latest(out.aggregates);
      expect(aggs.get(`t1|s1|m|=|10|10|${T0}`)?.summary.maxEventTimeMs).toBe(T0 + 4_000);
      expect(aggs.get(`t1|s1|m|=|10|10|${T0 + 10_000}`)?.summary.maxEventTimeMs).toBe(T0 + 12_000);
      expect(aggs.get(`t1|s1|m|=|60|10|${T0}`)?.summary.maxEventTimeMs).toBe(T0 + 12_000);
    });

    it('dead-letters poison records and events far ahead of their record timestamp', () => {
      const s = new PartitionState(options);
      const future = { ...rec(ev('f', T0 + 7_200_000, 1)), timestampMs: T0 };
      const out = s.processBatch([
        {
          kind: 'poison',
          code: 'ANALYTICS.INVALID_ENVELOPE',
          reason: 'x',
          offset: '9',
          key: null,
          value: Buffer.from('junk'),
          timestampMs: T0,
        },
        future,
      ]);
      expect(out.deadLetters.map((d) => d.code)).toEqual(['ANALYTICS.INVALID_ENVELOPE', 'ANALYTICS.FUTURE_EVENT_TIME']);
      expect(s.watermark).toBe(-Infinity);
    });
  });

  describe('restore', () => {
    it('resumes from its changelog exactly where an uninterrupted run would be', () => {
      const events: NormalizedEvent[] = [];
      for (let i = 0; i < 600; i++) events.push(ev(`e${i % 450}`, T0 + ((i * 37) % 25_000), (i * 13) % 101)); // 150 duplicates, out of order
      const records = events.map(rec);
      const straight = new PartitionState(options);
      const straightOut = [0, 200, 400].flatMap((from) => straight.processBatch(records.slice(from, from + 200)).aggregates);

      const first = new PartitionState(options);
      const log = new Map<string, string | undefined>();
      const emitted: EmittedAggregate[] = [];
      for (const from of [0, 200]) {
        const out = first.processBatch(records.slice(from, from + 200));
        emitted.push(...out.aggregates);
        for (const c of out.changelog) log.set(c.key, c.value); // compaction keeps the last value per key
      }
      const restored = new PartitionState(options);
      for (const [k, v] of log) restored.restore(k, v);
      emitted.push(...restored.processBatch(records.slice(400)).aggregates);

      const a = latest(straightOut);
      const b = latest(emitted);
      expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
      for (const [k, agg] of a) expect(b.get(k)?.summary).toEqual(agg.summary);
      const offline = offlineAggregates(events, options);
      for (const [k, agg] of b) expect(agg.summary).toEqual(offline.get(k));
    });

    it('restores an uncompacted changelog (every revision and tombstone, in log order) as its compaction', () => {
      // The broker never compacts the active segment: a restart reads each window's every revision, and the windows the
      // watermark purged as a value followed by a tombstone. Only the newest record of a key may count.
      const events: NormalizedEvent[] = [];
      for (let i = 0; i < 900; i++) events.push(ev(`u${i % 700}`, T0 + i * 400, (i * 7) % 53)); // event time moves on: windows close and are purged
      const records = events.map(rec);
      const first = new PartitionState(options);
      const full: Array<[string, string | undefined]> = [];
      for (const from of [0, 150, 300, 450, 600])
        for (const c of first.processBatch(records.slice(from, from + 150)).changelog) full.push([c.key, c.value]);
      const compacted = new Map(full);
      expect(full.length).toBeGreaterThan(compacted.size * 2); // the test needs superseded revisions
      expect([...compacted.entries()].some(([k, v]) => k.startsWith('w|') && v === undefined)).toBe(true); // and purged windows
      expect(
        full.some(
          ([k, v], i) => k.startsWith('w|') && v === undefined && full.slice(0, i).some(([k2, v2]) => k2 === k && v2 !== undefined),
        ),
      ).toBe(true);

      const fromFull = new PartitionState(options);
      for (const [k, v] of full) fromFull.restore(k, v);
      const fromCompacted = new PartitionState(options);
      for (const [k, v] of compacted) fromCompacted.restore(k, v);
      expect(fromFull.openWindows).toBe(fromCompacted.openWindows);
      expect(fromFull.watermark).toBe(fromCompacted.watermark);
      const a = latest(fromFull.processBatch(records.slice(750)).aggregates);
      const b = latest(fromCompacted.processBatch(records.slice(750)).aggregates);
      expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
      for (const [k, agg] of b) expect(a.get(k)?.summary).toEqual(agg.summary);
    });
  });
});
