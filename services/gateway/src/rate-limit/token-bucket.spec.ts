import { TokenBuckets } from './token-bucket';

describe(TokenBuckets, () => {
  let now = 0;
  const clock = () => now;
  const policy = { capacity: 3, periodMs: 3000 }; // one token per second

  beforeEach(() => {
    now = 0;
  });

  describe('take', () => {
    it('allows a burst of `capacity`, then refuses with the seconds until the next token', () => {
      const buckets = new TokenBuckets(10, clock);
      expect([1, 2, 3].map(() => buckets.take('a', policy).allowed)).toEqual([true, true, true]);
      expect(buckets.take('a', policy)).toEqual({ allowed: false, limit: 3, remaining: 0, retryAfterSec: 1, resetSec: 3 });
    });

    it('refills evenly over the period and never beyond capacity', () => {
      const buckets = new TokenBuckets(10, clock);
      for (let i = 0; i < 3; i += 1) buckets.take('a', policy);
      now = 1000;
      expect(buckets.take('a', policy)).toMatchObject({ allowed: true, remaining: 0 });
      expect(buckets.take('a', policy).allowed).toBe(false);
      now = 60_000;
      expect(buckets.take('a', policy)).toMatchObject({ allowed: true, remaining: 2 });
    });

    it('keeps one bucket per key', () => {
      const buckets = new TokenBuckets(10, clock);
      for (let i = 0; i < 3; i += 1) buckets.take('a', policy);
      expect(buckets.take('a', policy).allowed).toBe(false);
      expect(buckets.take('b', policy).allowed).toBe(true);
    });

    it('does not spend on a refused request, so a client hammering a full bucket recovers on schedule', () => {
      const buckets = new TokenBuckets(10, clock);
      for (let i = 0; i < 10; i += 1) buckets.take('a', policy);
      now = 1000;
      expect(buckets.take('a', policy).allowed).toBe(true);
    });
  });

  describe('peek', () => {
    it('reports without spending', () => {
      const buckets = new TokenBuckets(10, clock);
      expect(buckets.peek('a', { capacity: 1, periodMs: 1000 }).allowed).toBe(true);
      expect(buckets.peek('a', { capacity: 1, periodMs: 1000 }).allowed).toBe(true);
      buckets.take('a', { capacity: 1, periodMs: 1000 });
      expect(buckets.peek('a', { capacity: 1, periodMs: 1000 })).toMatchObject({ allowed: false, retryAfterSec: 1 });
    });
  });

  describe('memory bound', () => {
    it('evicts the least recently used key beyond maxKeys', () => {
      const buckets = new TokenBuckets(2, clock);
      const one = { capacity: 1, periodMs: 60_000 };
      buckets.take('a', one);
      buckets.take('b', one);
      buckets.take('a', one); // a is now the most recent (refused, but touched)
      buckets.take('c', one); // evicts b
      expect(buckets.size).toBe(2);
      expect(buckets.take('a', one).allowed).toBe(false); // still remembered
      expect(buckets.take('b', one).allowed).toBe(true); // forgotten: starts full
    });

    it('rejects a non-positive bound', () => {
      expect(() => new TokenBuckets(0)).toThrow(RangeError);
    });
  });
});
