import { type EventSink, type GeneratedEvent, GrpcSink, type LoadStats, runLoad, type SendResult, devApiKeys } from '@tessera/loadgen';

/**
 * GrpcSink without back-pressure retries: a batch ingest refuses or fails (UNAVAILABLE, deadline, ...) is
 * counted as errored and dropped, so the load stays open loop (the runner never waits on a retry).
 */
export class OpenLoopSink implements EventSink {
  readonly name = 'grpc-open-loop';
  private readonly inner: GrpcSink;
  /** Events in batches that failed as a whole, by the first line of the error. */
  readonly errors = new Map<string, number>();

  constructor(addr: string) {
    this.inner = new GrpcSink({ addr, keys: devApiKeys(), maxAttempts: 1, deadlineMs: DEADLINE_MS });
  }

  /** When the last batch was handed over (ms): the end of sending, without the wait for the last answers. */
  lastSendAt = 0;

  async send(tenant: string, batch: GeneratedEvent[]): Promise<SendResult> {
    this.lastSendAt = Date.now();
    try {
      return await this.inner.send(tenant, batch);
    } catch (err) {
      const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0]?.slice(0, 160) ?? 'error';
      this.errors.set(reason, (this.errors.get(reason) ?? 0) + batch.length);
      return { accepted: 0, rejections: [] };
    }
  }

  errorCount(): number {
    return [...this.errors.values()].reduce((a, b) => a + b, 0);
  }

  async close(): Promise<void> {
    await this.inner.close();
  }
}

/** The demo tenant: the only analytics tenant with an API key in .tessera/auth/dev-credentials.json (`payments` is the transfers tenant). */
export const TENANTS = ['demo'];
/** Events per IngestBatch (per tenant) and the requests allowed in flight: high, so the generator does not wait on ingest. */
export const BATCH = 100;
export const MAX_IN_FLIGHT = 512;
/** IngestBatch deadline: with it, at most rate x 5 s events are ever outstanding, far below the runner's cap (2 x BATCH x MAX_IN_FLIGHT). */
export const DEADLINE_MS = 5000;

export interface SendOutcome {
  stats: LoadStats;
  /** Events that were generated and handed to ingest per second of sending (the achieved offered rate). */
  offeredRate: number;
  acceptedRate: number;
  errors: number;
  /** How far the last batch left behind the schedule's end (ms): > ~500 means the generator could not keep the offered rate. */
  behindMs: number;
}

/** Sends `rate` events/s for `seconds` to ingest, open loop (event time = the schedule, so lateness counts). */
// No seed: a fixed one would repeat event ids run to run, and the processor would drop them as duplicates.
export async function send(sink: OpenLoopSink, rate: number, seconds: number): Promise<SendOutcome> {
  const errorsBefore = sink.errorCount();
  const durationMs = seconds * 1000;
  const t0 = Date.now();
  const stats = await runLoad({ rate, durationMs, sink, tenants: TENANTS, batchSize: BATCH, maxInFlight: MAX_IN_FLIGHT });
  // Seconds of sending: first to last batch handed over (at least the schedule's duration).
  const s = Math.max(durationMs, sink.lastSendAt - t0) / 1000;
  return {
    stats,
    offeredRate: stats.sent / s,
    acceptedRate: stats.accepted / s,
    errors: sink.errorCount() - errorsBefore,
    behindMs: Math.max(0, sink.lastSendAt - t0 - durationMs),
  };
}
