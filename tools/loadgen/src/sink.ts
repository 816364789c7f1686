import type { GeneratedEvent } from './generate';

/** One refused event as ingest reports it. */
export interface Rejection {
  index: number;
  eventId: string;
  code: string;
  reason: string;
}

export interface SendResult {
  accepted: number;
  rejections: Rejection[];
}

/** Where a batch of one tenant's events goes: the gateway over HTTP or ingest over gRPC. */
export interface EventSink {
  readonly name: string;
  /** Resolves once the batch is answered (after any back-pressure retries, reported to `listener`). */
  send(tenant: string, batch: GeneratedEvent[], listener?: SinkListener): Promise<SendResult>;
  close(): Promise<void>;
}

/** Retry hooks, so the runner can show back-pressure (503 + Retry-After) in its progress line. */
export interface SinkListener {
  onRetry?(reason: string, waitMs: number): void;
}

/** API keys per tenant: one key for every tenant, or `tenant:key` pairs (ingest checks they match). */
export class ApiKeys {
  constructor(
    private readonly byTenant: ReadonlyMap<string, string>,
    private readonly fallback?: string,
  ) {}

  /** `"demo-key"` (every tenant) or `"demo:demo-key,acme:acme-key"`. */
  static parse(spec: string | undefined): ApiKeys {
    if (!spec) return new ApiKeys(new Map());
    if (!spec.includes(':')) return new ApiKeys(new Map(), spec);
    const pairs = spec.split(',').map((pair) => {
      const at = pair.indexOf(':');
      if (at < 1 || at === pair.length - 1) throw new RangeError(`bad api key pair "${pair}": expected tenant:key`);
      return [pair.slice(0, at).trim(), pair.slice(at + 1).trim()] as const;
    });
    return new ApiKeys(new Map(pairs));
  }

  for(tenant: string): string | undefined {
    return this.byTenant.get(tenant) ?? this.fallback;
  }
}

/** Retry-After is either delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
