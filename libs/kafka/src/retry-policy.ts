import { databaseUnavailable } from '@tessera/errors';

/** How a failing handler is retried in-process before its message goes to the DLQ. */
export interface RetryPolicy {
  /** Total handler attempts including the first; at least 1. */
  maxAttempts: number;
  /** Delay before the second attempt. */
  initialDelayMs: number;
  /** Cap for any single delay. */
  maxDelayMs: number;
  /** Growth factor between attempts. */
  multiplier: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  initialDelayMs: 200,
  maxDelayMs: 5_000,
  multiplier: 2,
};

/**
 * Delay before attempt `attempt + 1`, after `attempt` (1-based) failures. "Full jitter" (a uniform
 * draw in [0, exponential cap]) spreads retries of many consumers failing on the same dependency,
 * which fixed or equal-jitter backoff would synchronise.
 */
export function backoffDelayMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const exponential = policy.initialDelayMs * Math.pow(policy.multiplier, Math.max(0, attempt - 1));
  const cap = Math.min(policy.maxDelayMs, exponential);
  return Math.floor(random() * cap);
}

/** Errors that retrying cannot fix (bad input, broken invariants) skip the remaining attempts. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof PoisonMessageError) return false;
  const kind = (error as { kind?: unknown } | null)?.kind;
  return !(kind === 'INVALID_ARGUMENT' || kind === 'FAILED_PRECONDITION' || kind === 'ALREADY_EXISTS' || kind === 'NOT_FOUND');
}

/**
 * A dependency that is down (the database unreachable or restarting: databaseUnavailable), not a bad message: the DLQ is
 * for messages that cannot be handled, and this one will be once the dependency is back. Found by the chaos
 * PostgreSQL restart (issue #14): compliance's monitor dead-lettered 15 transfer events in 13 s of outage.
 */
export function isDependencyOutage(error: unknown): boolean {
  return databaseUnavailable(error) !== undefined;
}

/** Backoff attempts beyond this do not grow the delay further (the cap is `maxDelayMs` anyway). */
const OUTAGE_ATTEMPT_CAP = 16;

/** What to do with a message after a failed attempt. */
export type FailureDecision = { action: 'retry'; delayMs: number } | { action: 'dlq' };

/**
 * Retry while attempts remain and the error is retryable; otherwise dead-letter. A dependency outage is retried until
 * it ends, whatever `maxAttempts` says (the partition waits, its lag shows it; a member that misses its session while
 * waiting rejoins and the idempotent handler sees the message again).
 */
export function decideAfterFailure(
  policy: RetryPolicy,
  attempt: number,
  error: unknown,
  random: () => number = Math.random,
): FailureDecision {
  if (isDependencyOutage(error)) return { action: 'retry', delayMs: backoffDelayMs(policy, Math.min(attempt, OUTAGE_ATTEMPT_CAP), random) };
  if (attempt >= policy.maxAttempts || !isRetryable(error)) return { action: 'dlq' };
  return { action: 'retry', delayMs: backoffDelayMs(policy, attempt, random) };
}

/** A message that cannot be decoded (envelope or payload); it goes to the DLQ without retries. */
export class PoisonMessageError extends Error {
  override readonly name = 'PoisonMessageError';
  readonly code = 'KAFKA.POISON_MESSAGE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
