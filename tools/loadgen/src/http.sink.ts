import type { GeneratedEvent } from './generate';
import { type ApiKeys, type EventSink, parseRetryAfter, type Rejection, type SendResult, type SinkListener, sleep } from './sink';

export interface HttpSinkOptions {
  /** Gateway base URL, e.g. http://127.0.0.1:8080. */
  target: string;
  keys: ApiKeys;
  /** Attempts per batch on 503/429/network errors before giving up. Default 20. */
  maxAttempts?: number;
  /** Wait when the server gives no Retry-After. Default 500 ms, doubling up to 10 s. */
  backoffMs?: number;
  signal?: AbortSignal;
}

/** Thrown when a batch cannot be delivered: the run stops rather than silently dropping events. */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

interface BatchBody {
  accepted?: unknown;
  rejections?: unknown;
}

/**
 * `POST /v1/events` through the gateway. A 503/429 is back-pressure: wait as long as Retry-After says and
 * resend the same batch (same event ids, so a batch that was in fact stored is deduplicated downstream).
 * A 4xx refusing the whole batch counts every event as rejected with the problem's code.
 */
export class HttpSink implements EventSink {
  readonly name = 'http';
  private readonly url: string;

  constructor(private readonly options: HttpSinkOptions) {
    this.url = new URL('/v1/events', options.target).toString();
  }

  async send(tenant: string, batch: GeneratedEvent[], listener?: SinkListener): Promise<SendResult> {
    const { keys, maxAttempts = 20, backoffMs = 500, signal } = this.options;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const key = keys.for(tenant);
    if (key) headers['x-api-key'] = key;
    const body = JSON.stringify({ events: batch.map((g) => g.event) });
    let backoff = backoffMs;
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(this.url, { method: 'POST', headers, body, signal: signal ?? null });
      } catch (err) {
        if (signal?.aborted || attempt >= maxAttempts) throw new DeliveryError(`POST ${this.url} failed: ${String(err)}`);
        listener?.onRetry?.('network', backoff);
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, 10_000);
        continue;
      }
      if (res.status === 503 || res.status === 429) {
        await res.arrayBuffer();
        if (attempt >= maxAttempts) throw new DeliveryError(`POST ${this.url}: still ${res.status} after ${attempt} attempts`, res.status);
        const wait = parseRetryAfter(res.headers.get('retry-after')) ?? backoff;
        listener?.onRetry?.(String(res.status), wait);
        await sleep(wait, signal);
        backoff = Math.min(backoff * 2, 10_000);
        continue;
      }
      const text = await res.text();
      const json = parseJson(text);
      if (res.ok) return toResult(json as BatchBody, batch);
      if (res.status >= 400 && res.status < 500 && res.status !== 401 && res.status !== 403) {
        const code = typeof (json as { code?: unknown })?.code === 'string' ? (json as { code: string }).code : `HTTP.${res.status}`;
        return { accepted: 0, rejections: batch.map((g, index) => ({ index, eventId: g.event.eventId, code, reason: 'batch refused' })) };
      }
      throw new DeliveryError(`POST ${this.url}: HTTP ${res.status} ${text.slice(0, 300)}`, res.status);
    }
  }

  async close(): Promise<void> {
    // fetch keeps no state that needs closing.
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function toResult(body: BatchBody | undefined, batch: GeneratedEvent[]): SendResult {
  const rejections: Rejection[] = Array.isArray(body?.rejections)
    ? (body.rejections as Partial<Rejection>[]).map((r) => ({
        index: Number(r.index ?? -1),
        eventId: String(r.eventId ?? ''),
        code: String(r.code ?? ''),
        reason: String(r.reason ?? ''),
      }))
    : [];
  const accepted = typeof body?.accepted === 'number' ? body.accepted : batch.length - rejections.length;
  return { accepted, rejections };
}
