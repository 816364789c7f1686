import { DedupeWindow } from './dedupe-window';

/** Runs `w` over (id, event time) pairs, one flush per pair, and returns the changelog it wrote (latest value per key). */
function run(w: DedupeWindow, events: Array<[string, number]>, watermarkDelayMs: number): Array<[string, string | undefined]> {
  const log: Array<[string, string | undefined]> = [];
  let max = -Infinity;
  events.forEach(([id, t], i) => {
    w.firstSeen(id, t);
    max = Math.max(max, t);
    for (const dead of w.expire(max - watermarkDelayMs)) log.push([dead, undefined]);
    for (const r of w.flush(String(i))) log.push([r.key, r.value]);
  });
  return log;
}

describe(DedupeWindow, () => {
  it('restores exactly the ids an uninterrupted run still remembers: tombstoned buckets stay forgotten', () => {
    const events: Array<[string, number]> = Array.from({ length: 300 }, (_, i) => [`e${i}`, i * 1_000]);
    const live = new DedupeWindow(60_000, 10_000, 5_000);
    const log = run(live, events, 5_000);
    expect(log.some(([, v]) => v === undefined)).toBe(true); // buckets expired along the way
    const restored = new DedupeWindow(60_000, 10_000, 5_000);
    for (const [k, v] of log) restored.restore(k, v);
    restored.settle(299_000 - 5_000);
    expect(restored.size).toBe(live.size);
    for (const [id, t] of events) expect(restored.firstSeen(id, t)).toBe(live.firstSeen(id, t));
  });

  it('drops restored buckets a shorter horizon has expired, keeps at most about one horizon unparsed while restoring, and tombstones them next', () => {
    // Written with a 600 s horizon (nothing expired), restored with 120 s: 1,000 s of ids, one record per second.
    const events: Array<[string, number]> = Array.from({ length: 1_000 }, (_, i) => [`e${i}`, i * 1_000]);
    const log = run(new DedupeWindow(600_000, 12_000, 5_000), events.slice(0, 1_000), 5_000).filter(([, v]) => v !== undefined);
    const restored = new DedupeWindow(120_000, 12_000, 5_000);
    let peak = 0;
    for (const [k, v] of log) {
      restored.restore(k, v);
      peak = Math.max(peak, restored.restoringRecords);
    }
    expect(peak).toBeLessThanOrEqual(150); // ~ (120 s + delay + a bucket) of one-per-second records, not 1,000
    const watermark = 999_000 - 5_000;
    restored.settle(watermark);
    expect(restored.firstSeen('e990', 990_000)).toBe(false); // inside the horizon: still a duplicate
    expect(restored.firstSeen('e100', 100_000)).toBe(true); // long expired: forgotten (and too late for every window)
    const tombstones = restored.expire(watermark);
    expect(tombstones.length).toBeGreaterThan(800);
    expect(new Set(tombstones).size).toBe(tombstones.length);
  });

  it('refuses a lookup before a restore is settled (the restored watermark decides what still counts)', () => {
    const w = new DedupeWindow(60_000, 10_000);
    w.restore('d|0|0', JSON.stringify(['a']));
    expect(() => w.firstSeen('a', 0)).toThrow(/settle/);
    w.settle(0);
    expect(w.firstSeen('a', 0)).toBe(false);
  });
});
