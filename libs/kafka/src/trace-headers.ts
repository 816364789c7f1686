import { context, propagation, type Context, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';
import type { IHeaders } from 'kafkajs';

/** Kafka header values arrive as Buffer (or arrays of them); propagators want strings. */
export function headerString(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined) return undefined;
  return typeof first === 'string' ? first : first.toString('utf8');
}

const getter: TextMapGetter<IHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => headerString(carrier, key),
};

const setter: TextMapSetter<Record<string, string>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

/** W3C trace context (and baggage) of `ctx` as plain string fields: traceparent, tracestate, baggage. */
export function injectTraceContext(ctx: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier, setter);
  return carrier;
}

/**
 * The producer's context from Kafka headers, falling back to the envelope's traceparent when a
 * message was produced by a client that did not set headers.
 */
export function extractTraceContext(
  headers: IHeaders | undefined,
  fallback?: { traceparent?: string; tracestate?: string },
  base: Context = context.active(),
): Context {
  if (headerString(headers, 'traceparent')) return propagation.extract(base, headers ?? {}, getter);
  if (fallback?.traceparent) {
    const carrier: IHeaders = { traceparent: fallback.traceparent };
    if (fallback.tracestate) carrier['tracestate'] = fallback.tracestate;
    return propagation.extract(base, carrier, getter);
  }
  return base;
}
