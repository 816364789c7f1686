import { tracing } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import { TelemetryConfigError } from './telemetry-config.error';

/** Span exporters a service can select with the standard `OTEL_TRACES_EXPORTER` (comma-separated). */
export const TRACE_EXPORTERS = ['otlp', 'zipkin', 'console', 'none'] as const;
export type TraceExporterName = (typeof TRACE_EXPORTERS)[number];

/** Where Zipkin's collector listens when OTEL_EXPORTER_ZIPKIN_ENDPOINT is not set (the local backend, infra/topology.yaml). */
export const DEFAULT_ZIPKIN_ENDPOINT = 'http://127.0.0.1:9411/api/v2/spans';

/**
 * The span exporters selected by `OTEL_TRACES_EXPORTER`, as the OpenTelemetry spec defines it: a comma list of
 * `otlp`, `zipkin`, `console`, or just `none`. Unset means `otlp` when an OTLP endpoint is configured
 * (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), otherwise `none`, which keeps the earlier
 * behaviour. An unknown name (e.g. `jaeger`, which the JS SDK dropped) is a config error at boot rather than
 * silently lost traces.
 */
export function traceExporterNames(env: NodeJS.ProcessEnv): TraceExporterName[] {
  const raw = env['OTEL_TRACES_EXPORTER']?.trim();
  if (!raw) return env['OTEL_EXPORTER_OTLP_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] ? ['otlp'] : ['none'];
  const names = [
    ...new Set(
      raw
        .split(',')
        .map((n) => n.trim().toLowerCase())
        .filter((n) => n !== ''),
    ),
  ];
  const unknown = names.filter((n) => !(TRACE_EXPORTERS as readonly string[]).includes(n));
  if (unknown.length > 0) {
    throw new TelemetryConfigError(
      'OTEL_TRACES_EXPORTER',
      `unknown exporter ${unknown.join(', ')}; use a comma list of ${TRACE_EXPORTERS.join(', ')}`,
    );
  }
  if (names.includes('none') && names.length > 1) {
    throw new TelemetryConfigError('OTEL_TRACES_EXPORTER', `"none" cannot be combined with other exporters (got "${raw}")`);
  }
  return names as TraceExporterName[];
}

/** The Zipkin collector URL from OTEL_EXPORTER_ZIPKIN_ENDPOINT (validated), else {@link DEFAULT_ZIPKIN_ENDPOINT}. */
export function zipkinEndpoint(env: NodeJS.ProcessEnv): string {
  const raw = env['OTEL_EXPORTER_ZIPKIN_ENDPOINT']?.trim();
  if (!raw) return DEFAULT_ZIPKIN_ENDPOINT;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TelemetryConfigError('OTEL_EXPORTER_ZIPKIN_ENDPOINT', `expected an http(s) URL, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TelemetryConfigError('OTEL_EXPORTER_ZIPKIN_ENDPOINT', `expected an http(s) URL, got "${raw}"`);
  }
  return raw;
}

/**
 * One batching span processor per selected exporter. The OTLP exporter reads OTEL_EXPORTER_OTLP_* itself; the
 * Zipkin URL is passed explicitly so `options.env` (tests) is honoured, not only process.env. Batching keeps the
 * request path free of export I/O; OTEL_BSP_SCHEDULE_DELAY etc. tune it.
 */
export function traceSpanProcessors(names: readonly TraceExporterName[], env: NodeJS.ProcessEnv): tracing.SpanProcessor[] {
  return names.flatMap((name): tracing.SpanProcessor[] => {
    switch (name) {
      case 'otlp':
        return [new tracing.BatchSpanProcessor(new OTLPTraceExporter())];
      case 'zipkin':
        return [new tracing.BatchSpanProcessor(new ZipkinExporter({ url: zipkinEndpoint(env) }))];
      case 'console':
        return [new tracing.SimpleSpanProcessor(new tracing.ConsoleSpanExporter())];
      case 'none':
        return [];
    }
  });
}
