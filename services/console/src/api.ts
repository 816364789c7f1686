import type { AggregateView } from './aggregate-store';

/** `GET /console/config.json`: what the gateway tells the page; public, so never a credential (issue #13). */
export interface ConsoleConfig {
  tenantId: string;
  paymentsTenantId: string;
  /** e.g. http://localhost:16686/trace/{traceId}; null = no trace UI configured. */
  traceUrlTemplate: string | null;
  refreshMs: number;
}

export interface AlertView {
  id: string;
  ruleId: string;
  severity: string;
  status: string;
  accountId: string;
  transferIds: string[];
  reasons: { code: string; description: string }[];
  createdAt: string | null;
  /** Trace of the step that raised the alert (transfer event consumer, or the Screen call); null when untraced. */
  traceId?: string | null;
}

/** The fields of the gateway's transfer view that the "Recent transfers" panel shows. */
export interface TransferView {
  id: string;
  status: string;
  kind: string;
  amount: { amountMinor: string; currency: string } | null;
  createdAt: string | null;
  /** Trace of the request that created the transfer; null when untraced or older than trace ids on transfers. */
  traceId?: string | null;
}

export interface PartitionLag {
  partition: number;
  committed: string | null;
  end: string;
  lag: number | null;
}

export interface GroupLag {
  groupId: string;
  state: string;
  members: number;
  lag: number;
  topics: { topic: string; lag: number; partitions: PartitionLag[] }[];
}

export interface ConsumerLagView {
  at: string;
  groups: GroupLag[];
}

/** A failed call, with the problem+json code when the gateway sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The operator's bearer token (src/token.ts); staff routes (alerts, ops) need it, tenant analytics use the API key. */
let bearer: string | null = null;
export function useBearerToken(token: string | null): void {
  bearer = token;
}
/**
 * One credential per request: a call that carries the tenant's API key (analytics) must not also carry the staff
 * token, because the gateway authenticates the bearer token first and an operator token has no insights scope
 * (the backfill of the charts was refused with 403 AUTH.SCOPE_REQUIRED that way).
 */
export const withBearer = (headers: Record<string, string>): Record<string, string> =>
  bearer && !Object.keys(headers).some((h) => h.toLowerCase() === 'x-api-key')
    ? { authorization: `Bearer ${bearer}`, ...headers }
    : headers;

async function getJson<T>(url: string, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(url, { headers: withBearer({ accept: 'application/json', ...headers }) });
  const body = (await res.json().catch(() => ({}))) as { code?: string; detail?: string };
  if (!res.ok) throw new ApiError(res.status, body.code ?? `HTTP.${res.status}`, body.detail ?? res.statusText);
  return body as T;
}

export const api = {
  config: () => getJson<ConsoleConfig>('/console/config.json'),
  alerts: () => getJson<{ items: AlertView[] }>('/v1/compliance/alerts?pageSize=20'),
  /** Newest first (the gateway's keyset order); staff token (operator) sees every tenant's transfers. */
  transfers: () => getJson<{ items: TransferView[] }>('/v1/transfers?pageSize=20'),
  consumerLag: () => getJson<ConsumerLagView>('/v1/ops/consumer-lag'),
  /** The recent past of the live chart, so it is not empty until the next window closes. */
  aggregates: (tenantId: string, apiKey: string, resolution: number, fromIso: string) =>
    getJson<{ items: AggregateView[] }>(
      `/v1/insights/aggregates?${new URLSearchParams({ tenantId, resolution: String(resolution), from: fromIso, pageSize: '1000' })}`,
      { 'x-api-key': apiKey },
    ),
  sendEvents: async (apiKey: string, traceparent: string, events: unknown[]) => {
    const res = await fetch('/v1/events', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': apiKey, traceparent },
      body: JSON.stringify({ events }),
    });
    const body = (await res.json().catch(() => ({}))) as { accepted?: number; rejections?: unknown[]; code?: string; detail?: string };
    if (!res.ok) throw new ApiError(res.status, body.code ?? `HTTP.${res.status}`, body.detail ?? res.statusText);
    return { accepted: body.accepted ?? 0, rejected: body.rejections?.length ?? 0 };
  },
  liveUrl: (tenantId: string, apiKey: string) => `/v1/live/aggregates?${new URLSearchParams({ tenantId, apiKey })}`,
};
