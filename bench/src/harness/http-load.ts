import autocannon from 'autocannon';
import { round } from './stats';

/**
 * Closed-loop HTTP load at fixed concurrency with autocannon (the Fastify project's load generator:
 * HdrHistogram latencies, pipelining off, keep-alive), in this process. On 2 cores it competes with the
 * server; it does so equally for Tessera and the baselines, and its CPU is reported beside them.
 */
export interface HttpLoadOptions {
  url: string;
  connections: number;
  seconds: number;
  /** Discarded run before the measured one (10-20% of the duration). */
  warmupSeconds: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** Builds each request (body, per-request headers such as Idempotency-Key). */
  setupRequest?: (req: { method?: string; path?: string; headers?: Record<string, string>; body?: string }) => {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string;
  };
  /** Called with each response (status and body) when the caller needs to count outcomes. */
  onResponse?: (status: number, body: string) => void;
}

export interface HttpLoadResult {
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  seconds: number;
}

async function fire(o: HttpLoadOptions, seconds: number, record: boolean): Promise<autocannon.Result> {
  return autocannon({
    url: o.url,
    connections: o.connections,
    duration: seconds,
    method: o.method ?? 'GET',
    headers: o.headers,
    requests: [
      {
        ...(o.setupRequest ? { setupRequest: o.setupRequest as autocannon.Request['setupRequest'] } : {}),
        ...(record && o.onResponse
          ? { onResponse: ((status: number, body: string) => o.onResponse?.(status, body)) as autocannon.Request['onResponse'] }
          : {}),
      },
    ],
    // Seconds; above the gateway's longest route deadline (GATEWAY_BATCH_DEADLINE_MS, 10 s), so the platform answers before the client gives up.
    timeout: 15,
  });
}

export async function httpLoad(o: HttpLoadOptions): Promise<HttpLoadResult> {
  if (o.warmupSeconds > 0) await fire(o, o.warmupSeconds, false);
  const r = await fire(o, o.seconds, true);
  const statusCodes = Object.fromEntries(
    Object.entries(r.statusCodeStats ?? {}).map(([code, v]) => [code, (v as { count: number }).count]),
  );
  return {
    reqPerSec: round(r.requests.total / o.seconds, 1),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    requests: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    statusCodes,
    seconds: o.seconds,
  };
}
