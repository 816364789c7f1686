import { createRandom, ZipfSampler } from './random';

describe('createRandom', () => {
  it('repeats the same stream for the same seed and differs for another', () => {
    const a = createRandom(42);
    const b = createRandom(42);
    const c = createRandom(43);
    const draw = (r: ReturnType<typeof createRandom>) => Array.from({ length: 50 }, () => r.next());
    const first = draw(a);
    expect(draw(b)).toEqual(first);
    expect(draw(c)).not.toEqual(first);
  });

  it('draws uniformly in [0, 1)', () => {
    const random = createRandom(7);
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const x = random.next();
      expect(x >= 0 && x < 1).toBe(true);
      buckets[Math.floor(x * 10)]!++;
    }
    for (const count of buckets) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });

  it('makes version-4 UUIDs', () => {
    const random = createRandom(1);
    for (let i = 0; i < 100; i++) expect(random.uuid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('ZipfSampler', () => {
  it('samples ranks with frequencies close to 1/k^s', () => {
    const zipf = new ZipfSampler(1000, 1.2);
    const random = createRandom(3);
    const counts = new Map<number, number>();
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      const k = zipf.sample(random);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    for (const k of [1, 2, 3, 10]) {
      const expected = zipf.probability(k) * n;
      expect(Math.abs((counts.get(k) ?? 0) - expected)).toBeLessThan(expected * 0.05 + 50);
    }
    // rank 1 vs rank 2 is 2^1.2 ≈ 2.30 under Zipf(1.2)
    expect((counts.get(1) ?? 0) / (counts.get(2) ?? 1)).toBeGreaterThan(2.1);
    expect((counts.get(1) ?? 0) / (counts.get(2) ?? 1)).toBeLessThan(2.5);
  });

  it('is uniform with skew 0', () => {
    const zipf = new ZipfSampler(4, 0);
    for (let k = 1; k <= 4; k++) expect(zipf.probability(k)).toBeCloseTo(0.25, 10);
  });

  it('rejects a bad size or skew', () => {
    expect(() => new ZipfSampler(0, 1)).toThrow(RangeError);
    expect(() => new ZipfSampler(10, -1)).toThrow(RangeError);
  });
});
