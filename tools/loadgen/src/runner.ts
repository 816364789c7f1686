import { EventGenerator, type EventKind, type GeneratedEvent, type GeneratorOptions } from './generate';
import type { EventSink, SinkListener } from './sink';

export interface LoadStats {
  /** Events handed to the sink (in a batch that completed). */
  sent: number;
  accepted: number;
  rejected: number;
  /** Generated events per kind (valid, late, duplicate, malformed). */
  byKind: Record<EventKind, number>;
  /** Rejections per ingest code, e.g. { "INGEST.INVALID_EVENT": 12 }. */
  rejectedByCode: Record<string, number>;
  batches: number;
  /** Retries after back-pressure (503/429/UNAVAILABLE) or network errors. */
  retries: number;
  inFlight: number;
  elapsedMs: number;
  /** Sent events per second over the run so far. */
  rate: number;
}

export interface RunOptions extends Omit<GeneratorOptions, 'rate' | 'startTime'> {
  /** Target events per second. */
  rate: number;
  /** How long to generate; the run ends when the last batch has been answered. */
  durationMs: number;
  sink: EventSink;
  /** Events per request (per tenant). Default 100. */
  batchSize?: number;
  /** Concurrent requests; when all are busy generation waits, so a slow ingest slows the load. Default 4. */
  maxInFlight?: number;
  /** Event time of the first event; default the run's start (event time then tracks the wall clock). */
  startTime?: number;
  onProgress?: (stats: LoadStats) => void;
  /** Progress callback interval. Default 250 ms. */
  progressEveryMs?: number;
  signal?: AbortSignal;
}

const TICK_MS = 50;
const FLUSH_EVERY = 4;

/**
 * Paces the generator at `rate` events/s, batching per tenant, with at most `maxInFlight` requests in flight.
 * Event i has event time start + i/rate, so with a fixed seed and start time the traffic is identical run to run.
 */
export async function runLoad(options: RunOptions): Promise<LoadStats> {
  const { rate, durationMs, sink, batchSize = 100, maxInFlight = 4, signal } = options;
  if (!(rate > 0)) throw new RangeError(`rate must be > 0, got ${rate}`);
  if (!(durationMs > 0)) throw new RangeError(`duration must be > 0, got ${durationMs}`);
  const started = Date.now();
  const generator = new EventGenerator({ ...options, rate, startTime: options.startTime ?? started });
  const total = Math.round((rate * durationMs) / 1000);
  const stats: LoadStats = {
    sent: 0,
    accepted: 0,
    rejected: 0,
    byKind: { valid: 0, late: 0, duplicate: 0, malformed: 0 },
    rejectedByCode: {},
    batches: 0,
    retries: 0,
    inFlight: 0,
    elapsedMs: 0,
    rate: 0,
  };
  const buffers = new Map<string, GeneratedEvent[]>();
  const pending = new Set<Promise<void>>();
  let failure: unknown;
  const listener: SinkListener = { onRetry: () => void stats.retries++ };

  const dispatch = (tenant: string, batch: GeneratedEvent[]): void => {
    stats.inFlight++;
    const request = sink
      .send(tenant, batch, listener)
      .then((result) => {
        stats.sent += batch.length;
        stats.accepted += result.accepted;
        stats.rejected += result.rejections.length;
        stats.batches++;
        for (const r of result.rejections) stats.rejectedByCode[r.code] = (stats.rejectedByCode[r.code] ?? 0) + 1;
      })
      .catch((err: unknown) => {
        failure ??= err;
      })
      .finally(() => {
        stats.inFlight--;
        pending.delete(request);
      });
    pending.add(request);
  };
  const flush = (all: boolean): void => {
    for (const [tenant, buffer] of buffers) {
      while (buffer.length > 0 && (all || buffer.length >= batchSize) && stats.inFlight < maxInFlight) {
        dispatch(tenant, buffer.splice(0, batchSize));
      }
    }
  };
  const report = (): void => {
    stats.elapsedMs = Date.now() - started;
    stats.rate = stats.elapsedMs > 0 ? (stats.sent * 1000) / stats.elapsedMs : 0;
    options.onProgress?.({ ...stats, byKind: { ...stats.byKind }, rejectedByCode: { ...stats.rejectedByCode } });
  };
  const progress = setInterval(report, options.progressEveryMs ?? 250);
  try {
    // At most this many events generated but not yet answered: a saturated sink slows the load instead of
    // growing memory without bound (and Retry-After is honoured by the sink before it answers).
    const maxOutstanding = batchSize * maxInFlight * 2;
    for (let tick = 0; !signal?.aborted && failure === undefined; tick++) {
      const due = Math.min(total, Math.floor((rate * (Date.now() - started)) / 1000));
      while (generator.count < due && generator.count - stats.sent < maxOutstanding) {
        const event = generator.next();
        stats.byKind[event.kind]++;
        let buffer = buffers.get(event.tenant);
        if (!buffer) buffers.set(event.tenant, (buffer = []));
        buffer.push(event);
        if (buffer.length >= batchSize) flush(false);
      }
      const done = generator.count >= total;
      // Partial batches leave every FLUSH_EVERY ticks, so events reach ingest within ~200 ms of their time.
      flush(done || tick % FLUSH_EVERY === 0);
      if (done && [...buffers.values()].every((b) => b.length === 0)) break;
      await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    }
    await Promise.all([...pending]);
    if (failure !== undefined) throw failure;
    return finalStats();
  } finally {
    clearInterval(progress);
    report();
  }

  function finalStats(): LoadStats {
    stats.elapsedMs = Date.now() - started;
    stats.rate = stats.elapsedMs > 0 ? (stats.sent * 1000) / stats.elapsedMs : 0;
    return stats;
  }
}
