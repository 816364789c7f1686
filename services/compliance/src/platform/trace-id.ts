import { isSpanContextValid, trace } from '@opentelemetry/api';

/**
 * The W3C trace id of the active span, or "" when nothing is traced. Stored on what a step creates
 * (alerts) so a UI can link the item to the trace of the step that produced it.
 */
export function activeTraceId(): string {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && isSpanContextValid(spanContext) ? spanContext.traceId : '';
}
