import fc from 'fast-check';
import { DDSketch } from './ddsketch';

/** Lower-rank exact quantile, the convention DDSketch approximates. */
function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))] as number;
}

describe(DDSketch, () => {
  describe('quantile', () => {
    it('stays within the relative accuracy of the exact quantile', () => {
      fc.assert(
        fc.property(
          fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 300 }),
          fc.constantFrom(0, 0.5, 0.95, 0.99, 1),
          (values, q) => {
            const s = new DDSketch(0.01);
            for (const v of values) s.add(v);
            const exact = exactQuantile(
              [...values].sort((a, b) => a - b),
              q,
            );
            const got = s.quantile(q);
            if (Math.abs(exact) < 1e-300) return Math.abs(got) < 1e-300 || got === 0;
            return Math.abs(got - exact) <= 0.01 * Math.abs(exact) + 1e-9;
          },
        ),
      );
    });

    it('gives 1..100 percentiles within 1%', () => {
      const s = new DDSketch(0.01);
      for (let i = 1; i <= 100; i++) s.add(i);
      expect(s.quantile(0.5)).toBeCloseTo(50, -0.3);
      expect(Math.abs(s.quantile(0.99) - 99) / 99).toBeLessThanOrEqual(0.01);
      expect(s.quantile(0)).toBeGreaterThan(0.99);
      expect(new DDSketch().quantile(0.5)).toBeNaN();
    });
  });

  describe('quantiles', () => {
    it('answers each quantile exactly as quantile does, in any order asked, negatives and zeros included', () => {
      fc.assert(
        fc.property(
          fc.array(fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.constant(0)), { maxLength: 300 }),
          fc.array(fc.constantFrom(0, 0.25, 0.5, 0.95, 0.99, 1, -0.1, 1.5), { maxLength: 6 }),
          (values, qs) => {
            const s = new DDSketch(0.01);
            for (const v of values) s.add(v);
            expect(s.quantiles(qs)).toEqual(qs.map((q) => s.quantile(q)));
          },
        ),
      );
    });
  });

  describe('toJSON', () => {
    it('round-trips and is independent of insertion order', () => {
      const values = Array.from({ length: 1000 }, (_, i) => ((i * 7919) % 1000) - 200);
      const a = new DDSketch();
      const b = new DDSketch();
      for (const v of values) a.add(v);
      for (const v of [...values].reverse()) b.add(v);
      expect(a.toJSON()).toEqual(b.toJSON());
      const c = DDSketch.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
      expect(c.count).toBe(1000);
      for (const q of [0, 0.5, 0.95, 0.99, 1]) expect(c.quantile(q)).toBe(a.quantile(q));
    });
  });
});
