/**
 * Token buckets per (client, route class), in memory, bounded by an LRU.
 *
 * Hand-written rather than @fastify/rate-limit because the key is the *authenticated* principal, known only after
 * the Nest guard verified the credential (Fastify hooks run before it), and because auth failures need their own
 * per-IP bucket. The state is per gateway instance: with N replicas behind a balancer a client gets up to N times
 * the limit; a shared store (Redis) would be needed for a global quota.
 */

/** One class of routes: a burst of `capacity` requests, refilled evenly over `periodMs`. */
export interface BucketPolicy {
  capacity: number;
  periodMs: number;
}

export interface TakeResult {
  allowed: boolean;
  limit: number;
  /** Whole tokens left after this request. */
  remaining: number;
  /** Seconds until a token is available (0 when allowed). */
  retryAfterSec: number;
  /** Seconds until the bucket is full again. */
  resetSec: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class TokenBuckets {
  /** Map iteration order is insertion order: re-inserting on use makes the first key the least recently used. */
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly maxKeys: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new RangeError('maxKeys must be a positive integer');
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Spends `cost` tokens of `key`'s bucket if it has them; a refused request spends nothing. */
  take(key: string, policy: BucketPolicy, cost = 1): TakeResult {
    const bucket = this.refill(key, policy);
    const allowed = bucket.tokens >= cost;
    if (allowed) bucket.tokens -= cost;
    return this.result(bucket, policy, allowed, cost);
  }

  /** Whether `key` could spend `cost` now, without spending it (e.g. "has this IP used up its auth failures?"). */
  peek(key: string, policy: BucketPolicy, cost = 1): TakeResult {
    const bucket = this.refill(key, policy);
    return this.result(bucket, policy, bucket.tokens >= cost, cost);
  }

  private refill(key: string, policy: BucketPolicy): Bucket {
    const now = this.now();
    const rate = policy.capacity / policy.periodMs; // tokens per ms
    let bucket = this.buckets.get(key);
    if (bucket) {
      this.buckets.delete(key);
      bucket.tokens = Math.min(policy.capacity, bucket.tokens + (now - bucket.updatedAt) * rate);
      bucket.updatedAt = now;
    } else {
      bucket = { tokens: policy.capacity, updatedAt: now };
      // Evicting forgets a client's spending (it starts full again), so the bound must exceed the active client count.
      while (this.buckets.size >= this.maxKeys) {
        const oldest = this.buckets.keys().next().value as string;
        this.buckets.delete(oldest);
      }
    }
    this.buckets.set(key, bucket);
    return bucket;
  }

  private result(bucket: Bucket, policy: BucketPolicy, allowed: boolean, cost: number): TakeResult {
    const msPerToken = policy.periodMs / policy.capacity;
    const missing = Math.max(0, cost - bucket.tokens);
    return {
      allowed,
      limit: policy.capacity,
      remaining: Math.floor(bucket.tokens),
      retryAfterSec: allowed ? 0 : Math.max(1, Math.ceil((missing * msPerToken) / 1000)),
      resetSec: Math.ceil(((policy.capacity - bucket.tokens) * msPerToken) / 1000),
    };
  }
}
