import { SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import type { EmittedAggregate } from '../processing/partition-state';

const tracer = trace.getTracer('stream-processor');

/**
 * `window close` spans per batch at most: an idle watermark jump can finalise thousands of windows at once
 * (every tenant, metric, dimension value and window shape); the batch span counts them all.
 */
export const MAX_WINDOW_CLOSE_SPANS = 64;

/**
 * The span attributes of one finalised window. Codes, times and numbers only: the dimension VALUE (and so
 * the window key, which contains it) is left out because it is a tenant's attribute value, which may be PII.
 */
export function windowCloseAttributes(a: EmittedAggregate): Attributes {
  return {
    'tessera.tenant': a.id.tenantId,
    'tessera.window.stream': a.id.streamId,
    'tessera.window.metric': a.id.metric,
    'tessera.window.dimension': a.id.dimKey,
    'tessera.window.start': new Date(a.id.startMs).toISOString(),
    'tessera.window.size_s': a.id.sizeMs / 1000,
    'tessera.window.slide_s': a.id.slideMs / 1000,
    'tessera.window.revision': a.revision,
    'tessera.window.events': a.summary.count,
    'tessera.window.late_events': a.late,
    ...(a.summary.maxEventTimeMs !== undefined
      ? { 'tessera.window.max_event_time': new Date(a.summary.maxEventTimeMs).toISOString() }
      : {}),
  };
}

/**
 * Runs `publish` (the Kafka transaction that carries the batch's aggregates) with one `window close` span per
 * window this batch finalised, children of the active (batch) span: a window is closed once its final revision
 * is committed, so each span ends when the transaction does and is marked failed when it aborts.
 */
export async function traceWindowCloses(
  aggregates: readonly EmittedAggregate[],
  publish: () => Promise<void>,
  max = MAX_WINDOW_CLOSE_SPANS,
): Promise<void> {
  const closing = aggregates.filter((a) => a.closing);
  const spans: Span[] = closing.slice(0, max).map((a) => tracer.startSpan('window close', { attributes: windowCloseAttributes(a) }));
  try {
    await publish();
  } catch (error) {
    for (const span of spans) span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).name });
    throw error;
  } finally {
    for (const span of spans) span.end();
  }
}

/** Batch span attributes: windows finalised and `window close` spans not recorded. */
export function windowCloseCounts(aggregates: readonly EmittedAggregate[], max = MAX_WINDOW_CLOSE_SPANS): Attributes {
  const closed = aggregates.reduce((n, a) => n + (a.closing ? 1 : 0), 0);
  return { 'tessera.windows.closed': closed, 'tessera.windows.close_spans_dropped': Math.max(0, closed - max) };
}
