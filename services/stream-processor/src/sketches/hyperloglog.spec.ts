import { createHash } from 'node:crypto';
import { HyperLogLog } from './hyperloglog';

describe(HyperLogLog, () => {
  describe('hashOf / addHash', () => {
    it('hashes a value as the first 64 bits of its md5 and sets the registers add(value) sets', () => {
      const values = ['u1', 'u42', 'ünïcödé', '', 'x'.repeat(300), ...Array.from({ length: 500 }, (_, i) => `user-${i}`)];
      for (const v of values) {
        const digest = createHash('md5').update(v).digest();
        expect(HyperLogLog.hashOf(v)).toEqual({ h1: digest.readUInt32BE(0), h2: digest.readUInt32BE(4) });
      }
      const byValue = new HyperLogLog(11);
      const byHash = new HyperLogLog(11);
      for (const v of values) {
        byValue.add(v);
        byHash.addHash(HyperLogLog.hashOf(v));
      }
      expect(byHash.registers).toEqual(byValue.registers);
      // What the estimate gave before the hash was shared (md5 per add, `2 ** -r` in the sum): the same number.
      expect(byValue.estimate()).toBe(489);
    });
  });

  describe('estimate', () => {
    it('is exact-ish for small sets (linear counting) and within 3 standard errors for large ones', () => {
      const small = new HyperLogLog(11);
      for (let i = 0; i < 50; i++) small.add(`u${i}`);
      expect(small.estimate()).toBeGreaterThanOrEqual(49);
      expect(small.estimate()).toBeLessThanOrEqual(51);
      const big = new HyperLogLog(11);
      for (let i = 0; i < 100_000; i++) big.add(`user-${i}`);
      const stdErr = 1.04 / Math.sqrt(2048);
      expect(Math.abs(big.estimate() - 100_000) / 100_000).toBeLessThan(3 * stdErr);
    });

    it('ignores repeats and insertion order', () => {
      const a = new HyperLogLog();
      const b = new HyperLogLog();
      const values = Array.from({ length: 5000 }, (_, i) => `v${i % 1200}`);
      for (const v of values) a.add(v);
      for (const v of [...values].reverse()) b.add(v);
      expect(a.estimate()).toBe(b.estimate());
      expect(Buffer.from(a.registers).equals(Buffer.from(b.registers))).toBe(true);
    });
  });

  describe('toJSON', () => {
    it('round-trips both the sparse and the dense form', () => {
      for (const n of [10, 20_000]) {
        const h = new HyperLogLog(10);
        for (let i = 0; i < n; i++) h.add(String(i));
        const json = JSON.parse(JSON.stringify(h.toJSON()));
        expect('s' in json).toBe(n === 10);
        expect(HyperLogLog.fromJSON(json).estimate()).toBe(h.estimate());
      }
    });
  });

  describe('merge', () => {
    it('equals the sketch of the union', () => {
      const a = new HyperLogLog();
      const b = new HyperLogLog();
      const u = new HyperLogLog();
      for (let i = 0; i < 3000; i++) {
        (i % 2 ? a : b).add(`x${i}`);
        u.add(`x${i}`);
      }
      a.merge(b);
      expect(a.estimate()).toBe(u.estimate());
    });
  });
});
