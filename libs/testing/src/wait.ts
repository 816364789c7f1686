import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  /** Give up after this long (default 60 s). */
  timeoutMs?: number;
  /** Pause between probes (default 250 ms). */
  intervalMs?: number;
  /**
   * Whether a probe that throws is retried (its error is reported if time runs out) or fails the wait at once. Default:
   * every error is retried (a service still starting refuses connections).
   */
  retryOn?: (err: unknown) => boolean;
  /** Called before each probe (e.g. to fail fast when a child process died). */
  onTick?: () => void;
}

/**
 * Polls `probe` until it returns something other than `undefined` and returns that; the error names `what`.
 * The one polling helper of the test suites (before: six copies with their own timeouts and error handling).
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  options: WaitOptions = {},
): Promise<T> {
  const { timeoutMs = 60_000, intervalMs = 250, retryOn = () => true, onTick } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    onTick?.();
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      if (!retryOn(err)) throw err;
      lastError = err;
    }
    if (Date.now() >= deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    await sleep(intervalMs);
  }
}

/** Polls `check` until it returns true (see `eventually`). */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, options: WaitOptions = {}): Promise<void> {
  await eventually(what, async () => ((await check()) ? true : undefined), options);
}
