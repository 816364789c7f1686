import { type Span, SpanStatusCode } from '@opentelemetry/api';

/** Marks `span` failed by `error`: the exception as a span event and status ERROR named after the error type. */
export function markSpanFailed(span: Span, error: unknown): void {
  const err = error instanceof Error ? error : new Error(String(error));
  span.recordException(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message: err.name });
}
