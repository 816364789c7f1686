import fc from 'fast-check';
import { backoffDelayMs, decideAfterFailure, PoisonMessageError, type RetryPolicy, isDependencyOutage } from './retry-policy';

const policy: RetryPolicy = { maxAttempts: 4, initialDelayMs: 100, maxDelayMs: 1_000, multiplier: 2 };

describe('backoffDelayMs', () => {
  it('grows exponentially up to the cap at the top of the jitter range', () => {
    const top = () => 0.999999;
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelayMs(policy, a, top))).toEqual([99, 199, 399, 799, 999, 999]);
  });

  it('always stays within [0, min(cap, exponential))', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, r) => {
        const delay = backoffDelayMs(policy, attempt, () => r);
        return delay >= 0 && delay < Math.min(policy.maxDelayMs, 100 * 2 ** (attempt - 1)) + 1;
      }),
    );
  });
});

describe('decideAfterFailure', () => {
  it('retries transient errors until maxAttempts, then dead-letters', () => {
    const err = new Error('db down');
    expect(decideAfterFailure(policy, 1, err, () => 0.5)).toEqual({ action: 'retry', delayMs: 50 });
    expect(decideAfterFailure(policy, 3, err).action).toBe('retry');
    expect(decideAfterFailure(policy, 4, err)).toEqual({ action: 'dlq' });
  });

  it('dead-letters poison and invalid-argument errors at once', () => {
    expect(decideAfterFailure(policy, 1, new PoisonMessageError('bad'))).toEqual({ action: 'dlq' });
    expect(decideAfterFailure(policy, 1, Object.assign(new Error('x'), { kind: 'INVALID_ARGUMENT' }))).toEqual({ action: 'dlq' });
    expect(decideAfterFailure(policy, 1, Object.assign(new Error('x'), { kind: 'UNAVAILABLE' })).action).toBe('retry');
  });
});

describe('a dependency outage', () => {
  const policy = { maxAttempts: 3, initialDelayMs: 100, maxDelayMs: 1000, multiplier: 2 };
  const unreachable = Object.assign(new Error("Can't reach database server"), {
    code: 'P1001',
    meta: { driverAdapterError: { cause: { kind: 'DatabaseNotReachable' } } },
  });

  it('is retried past maxAttempts, with capped backoff, never dead-lettered (the message is fine, the database is down)', () => {
    for (const attempt of [1, 3, 10, 500]) {
      const decision = decideAfterFailure(policy, attempt, unreachable, () => 0.999);
      expect(decision.action).toBe('retry');
      if (decision.action === 'retry') expect(decision.delayMs).toBeLessThanOrEqual(1000);
    }
    expect(isDependencyOutage(unreachable)).toBe(true);
  });

  it('does not change what happens to other failures', () => {
    expect(decideAfterFailure(policy, 3, new Error('downstream rejected')).action).toBe('dlq');
    expect(isDependencyOutage(new Error('downstream rejected'))).toBe(false);
  });
});
