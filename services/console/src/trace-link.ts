const TRACE_ID = /^[0-9a-f]{32}$/;

/** The trace id of an item, from `traceId` or a W3C `traceparent` (00-<trace>-<span>-<flags>). */
export function traceIdOf(item: { traceId?: string | null; traceparent?: string | null }): string | undefined {
  const direct = item.traceId?.toLowerCase();
  if (direct && TRACE_ID.test(direct) && !/^0+$/.test(direct)) return direct;
  const parts = item.traceparent?.split('-');
  const fromParent = parts?.length === 4 ? parts[1]?.toLowerCase() : undefined;
  return fromParent && TRACE_ID.test(fromParent) && !/^0+$/.test(fromParent) ? fromParent : undefined;
}

/**
 * The trace UI address for a trace id, from a template such as `http://localhost:16686/trace/{traceId}`
 * (TESSERA_TRACE_URL). Undefined when no template is configured or the item has no valid trace id.
 */
export function traceUrl(template: string | null | undefined, traceId: string | undefined): string | undefined {
  if (!template || !traceId || !TRACE_ID.test(traceId)) return undefined;
  return template.split('{traceId}').join(encodeURIComponent(traceId));
}

/**
 * The tooltip of every trace link: the platform keeps every failed or slow trace but only a sample of fast, successful
 * ones (OTEL_TRACES_SAMPLER=tessera_tail, libs/telemetry), so a link can lead to "trace not found" under load.
 */
export const TRACE_LINK_HINT =
  'open the trace (errors, slow requests and a sample of the rest are kept: a fast one may be missing under load)';

/** What a trace cell shows: a link, or why there is none (as its tooltip). */
export type TraceLink = { href: string } | { reason: string };

/** The trace cell of any item (aggregate, alert, transfer): its trace UI link, or the reason it has none. */
export function traceLink(template: string | null | undefined, item: { traceId?: string | null; traceparent?: string | null }): TraceLink {
  const href = traceUrl(template, traceIdOf(item));
  if (href) return { href };
  return {
    reason: template
      ? 'no trace recorded for this item (not sampled, or made before tracing)'
      : 'no trace UI configured (TESSERA_TRACE_URL)',
  };
}

/** A fresh W3C traceparent for a request the console starts itself, so that request can be linked. */
export function newTraceparent(randomBytes: (n: number) => Uint8Array): { traceId: string; traceparent: string } {
  const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  const traceId = hex(randomBytes(16));
  return { traceId, traceparent: `00-${traceId}-${hex(randomBytes(8))}-01` };
}
