/**
 * Bounded, deadline-aware admission in front of a connection pool: at most `capacity` callers work at once, the
 * rest wait in FIFO order, and a waiter whose caller has gone (its AbortSignal fired: client cancelled or deadline
 * passed) leaves the queue and never starts.
 *
 * Why: a gRPC handler that queues for a pooled connection keeps queueing after its caller gave up. Under a burst
 * the queue outgrows the callers' deadlines, every admitted request is one nobody waits for any more, and goodput
 * collapses to zero while the CPU stays busy (the transfers bench saw every Screen call time out at 16 clients,
 * issue #10). Admission checks the caller before spending a connection on it. Hand-written (30 lines) because the
 * npm semaphores (p-limit, async-sema) take no per-waiter AbortSignal; p-queue does, but is ESM-only.
 */
export class AdmissionGate {
  private active = 0;
  private readonly waiting: Array<{ admit: () => void }> = [];

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`AdmissionGate: capacity must be a positive integer, got ${capacity}`);
  }

  /** Runs `work` once admitted; rejects with `gone()` without running it when `signal` fires first. */
  async run<T>(signal: AbortSignal | undefined, gone: () => Error, work: () => Promise<T>): Promise<T> {
    if (signal?.aborted) throw gone();
    if (this.active >= this.capacity) {
      await new Promise<void>((resolve, reject) => {
        const waiter = {
          admit: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        const onAbort = () => {
          const at = this.waiting.indexOf(waiter);
          if (at >= 0) this.waiting.splice(at, 1);
          reject(gone());
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiting.push(waiter);
      });
    } else {
      this.active++;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next)
        next.admit(); // the slot passes straight to the next waiter
      else this.active--;
    }
  }

  /** Callers working and waiting (for metrics and tests). */
  get load(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiting.length };
  }
}
