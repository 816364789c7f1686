import { setTimeout as sleep } from 'node:timers/promises';
import { DbError } from './db.error';

/** SQLSTATEs that mean "run the whole transaction again": serialization_failure, deadlock_detected. */
const RETRYABLE_SQLSTATES = new Set(['40001', '40P01']);
/** Prisma's own code for the same condition ("write conflict or deadlock"). */
const PRISMA_WRITE_CONFLICT = 'P2034';

export interface SerializableRetryOptions {
  /** Total attempts including the first. Default 5. */
  maxAttempts?: number;
  /** First backoff (ms); doubles each retry, with full jitter. Default 20. */
  baseDelayMs?: number;
  /** Backoff ceiling (ms). Default 1000. */
  maxDelayMs?: number;
  /** Observes each retry (metrics, debug logs). */
  onRetry?: (info: { attempt: number; delayMs: number; sqlState: string }) => void;
}

/**
 * Runs `fn` (which must open its own transaction, e.g. `prisma.$transaction(cb, { isolationLevel: 'Serializable' })`)
 * and re-runs it when Postgres aborts it with a serialization failure or deadlock. Under SERIALIZABLE, such aborts are
 * the normal price of concurrency, and a retry of the whole transaction is the documented remedy.
 * Any other error is rethrown at once; when attempts run out a `DbError` `DB.SERIALIZATION_RETRIES_EXHAUSTED`
 * (cause: the last conflict) is thrown.
 */
export async function withSerializableRetry<T>(fn: (attempt: number) => Promise<T>, options: SerializableRetryOptions = {}): Promise<T> {
  const maxAttempts = options.maxAttempts ?? 5;
  const base = options.baseDelayMs ?? 20;
  const cap = options.maxDelayMs ?? 1_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const sqlState = retryableSqlState(err);
      if (!sqlState) throw err;
      if (attempt >= maxAttempts) {
        throw new DbError(
          'DB.SERIALIZATION_RETRIES_EXHAUSTED',
          `transaction still conflicting after ${attempt} attempts (SQLSTATE ${sqlState})`,
          {
            cause: err,
          },
        );
      }
      const delayMs = Math.round(Math.random() * Math.min(cap, base * 2 ** (attempt - 1)));
      options.onRetry?.({ attempt, delayMs, sqlState });
      await sleep(delayMs);
    }
  }
}

/**
 * The SQLSTATE if `err` is a retryable conflict, else undefined. Looks through the shapes it can take: a raw `pg` error
 * (`code`), a Prisma known-request error (`P2034`, or `meta.driverAdapterError.cause.originalCode` through adapter-pg),
 * and any `cause` chain.
 */
export function retryableSqlState(err: unknown): string | undefined {
  const seen = new Set<unknown>();
  const stack: unknown[] = [err];
  while (stack.length > 0) {
    const cur = stack.pop();
    if (!cur || typeof cur !== 'object' || seen.has(cur)) continue;
    seen.add(cur);
    const rec = cur as Record<string, unknown>;
    for (const key of ['code', 'originalCode', 'sqlState']) {
      const value = rec[key];
      if (typeof value === 'string' && RETRYABLE_SQLSTATES.has(value)) return value;
      if (value === PRISMA_WRITE_CONFLICT) return '40001';
    }
    // adapter-pg reports a serialization failure as kind TransactionWriteConflict.
    if (rec['kind'] === 'TransactionWriteConflict') return '40001';
    stack.push(rec['cause'], rec['meta'], rec['driverAdapterError']);
  }
  return undefined;
}
