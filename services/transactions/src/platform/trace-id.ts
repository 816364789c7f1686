import { isSpanContextValid, trace } from '@opentelemetry/api';

/**
 * The W3C trace id of the active span, or "" when nothing is traced. Stored on the transfers a request
 * creates so the console can link a transfer to the trace of the request that produced it.
 */
export function activeTraceId(): string {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && isSpanContextValid(spanContext) ? spanContext.traceId : '';
}
