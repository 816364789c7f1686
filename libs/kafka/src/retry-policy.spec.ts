import fc from 'fast-check';
import { backoffDelayMs, decideAfterFailure, PoisonMessageError, type RetryPolicy } from './retry-policy';

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
