import { isSpanContextValid, type Link, type Span, type SpanContext, TraceFlags } from '@opentelemetry/api';
import type { InputRecord } from '../processing/processing.types';

/** Span links per emitting span: enough to reach the latest contributors, bounded so a 10k-record batch stays cheap. */
export const MAX_CONTRIBUTOR_LINKS = 32;

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** W3C traceparent -> remote span context; undefined when absent or malformed (version ff is invalid). */
export function parseTraceparent(traceparent: string | undefined): SpanContext | undefined {
  const m = traceparent ? TRACEPARENT.exec(traceparent.trim()) : null;
  if (!m || m[1] === 'ff') return undefined;
  const ctx: SpanContext = { traceId: m[2] as string, spanId: m[3] as string, traceFlags: parseInt(m[4] as string, 16), isRemote: true };
  return isSpanContextValid(ctx) ? ctx : undefined;
}

/**
 * Links from the span that emits a batch's aggregates to the traces of the events it consumed. An
 * aggregate sums many events, so no single parent is right: links keep every contributor reachable.
 * The LAST `max` distinct contexts are kept (newest first), so the latest contributing event is always linked.
 */
export function contributorLinks(records: readonly InputRecord[], max = MAX_CONTRIBUTOR_LINKS): { links: Link[]; dropped: number } {
  const links: Link[] = [];
  const seen = new Set<string>();
  let total = 0;
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i] as InputRecord;
    if (r.kind !== 'event') continue;
    const ctx = parseTraceparent(r.traceparent);
    if (!ctx || seen.has(ctx.spanId)) continue;
    seen.add(ctx.spanId);
    total++;
    if (links.length < max) links.push({ context: ctx });
  }
  return { links, dropped: total - links.length };
}

/** The span's trace id, or "" when tracing is off (a no-op span has the all-zero invalid context). */
export function traceIdOf(span: Span): string {
  const ctx = span.spanContext();
  // An unsampled span is never exported: a trace id would link the console to a trace that does not exist.
  return isSpanContextValid(ctx) && (ctx.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED ? ctx.traceId : '';
}
