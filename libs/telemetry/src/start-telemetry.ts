import type { Server } from 'node:http';
import { core, NodeSDK, resources, tracing } from '@opentelemetry/sdk-node';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { BatchLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { PeriodicExportingMetricReader, type MetricReader } from '@opentelemetry/sdk-metrics';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { KafkaJsInstrumentation } from '@opentelemetry/instrumentation-kafkajs';
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino';
import { NestInstrumentation } from '@opentelemetry/instrumentation-nestjs-core';
import { startAdminEndpoint } from './admin-endpoint';
import { traceExporterNames, traceSpanProcessors, type TraceExporterName } from './exporters';
import { setLoggerServiceName } from './logger';
import { samplerFromEnv, tailPolicyFromEnv } from './sampler';
import { TailSamplingSpanProcessor } from './tail-sampling';
import { TelemetryConfigError } from './telemetry-config.error';

export { TelemetryConfigError } from './telemetry-config.error';

export interface TelemetryOptions {
  serviceName: string;
  serviceVersion?: string;
  /** Defaults to DEPLOYMENT_ENVIRONMENT, then NODE_ENV, then `local`. */
  environment?: string;
  /** Defaults to process.env; tests pass their own. */
  env?: NodeJS.ProcessEnv;
  /**
   * kafkajs instrumentation (a span and a histogram sample per consumed message, a span per send). Default true. The
   * stream processor turns it off: it traces its own batches (one span linking the batch's events) and counts its
   * events by outcome, and at 5,000 events/s the per-message spans, context extraction and metric samples were ~7% of
   * its CPU (issue #11).
   */
  kafkajs?: boolean;
}

export interface Telemetry {
  /** Flushes pending spans/metrics/logs and stops exporting; safe to call twice. */
  shutdown(): Promise<void>;
  /** Which exporters were chosen, for a startup log line. */
  readonly exporters: { otlp: boolean; traces: TraceExporterName[]; prometheus: PrometheusEndpoint | undefined };
}

/** Where the Prometheus scrape endpoint listens (`http://<host>:<port>/metrics`). */
export interface PrometheusEndpoint {
  host: string;
  port: number;
}

/**
 * The Prometheus endpoint configured for `serviceName`, or undefined when none is.
 *
 * `<SERVICE>_METRICS_PORT` (e.g. `TRANSACTIONS_METRICS_PORT`, set per service by infra/topology.yaml) wins over
 * the generic `OTEL_EXPORTER_PROMETHEUS_PORT`, so one shell can run several services without port clashes.
 * The host defaults to loopback, not the exporter's all-interfaces default: metrics reveal traffic shape and
 * should be exposed on purpose (`<SERVICE>_METRICS_HOST=0.0.0.0` in a container).
 */
export function prometheusEndpoint(serviceName: string, env: NodeJS.ProcessEnv): PrometheusEndpoint | undefined {
  const prefix = serviceName.toUpperCase().replace(/-/g, '_');
  const portVar = env[`${prefix}_METRICS_PORT`]?.trim() ? `${prefix}_METRICS_PORT` : 'OTEL_EXPORTER_PROMETHEUS_PORT';
  const rawPort = env[portVar]?.trim();
  if (!rawPort) return undefined;
  const port = Number(rawPort);
  if (!/^\d+$/.test(rawPort) || port < 1 || port > 65535) {
    throw new TelemetryConfigError(portVar, `expected a TCP port (1-65535), got "${rawPort}"`);
  }
  const host = env[`${prefix}_METRICS_HOST`]?.trim() || env['OTEL_EXPORTER_PROMETHEUS_HOST']?.trim() || '127.0.0.1';
  return { host, port };
}

/**
 * Starts OpenTelemetry for one service. Call it from `instrumentation.ts`, loaded before anything
 * else (`node -r ./instrumentation.js main.js` or the first import), because the instrumentations
 * patch `http`, `@grpc/grpc-js`, `pg`, `kafkajs`, `pino` and `@nestjs/core` when they are required.
 *
 * The instrumentations are listed one by one instead of using auto-instrumentations-node: that
 * metapackage pulls ~40 instrumentations (and their startup cost) for libraries we do not use, and
 * an explicit list documents which hops the traces cover.
 *
 * Exporters: OTLP/HTTP for traces, metrics and logs when OTEL_EXPORTER_OTLP_ENDPOINT is set; spans go where
 * OTEL_TRACES_EXPORTER says (`otlp`, `zipkin` for the local Zipkin, `console`, `none`; see exporters.ts).
 * Otherwise spans are still created (so trace ids appear in logs and propagate between services)
 * but go nowhere. When `<SERVICE>_METRICS_PORT` or OTEL_EXPORTER_PROMETHEUS_PORT is set (see
 * {@link prometheusEndpoint}), metrics are also served for scraping at `http://<host>:<port>/metrics`
 * in the Prometheus text format, beside `GET|PUT /log-level` (see startAdminEndpoint); without it no port is
 * opened. Scrapes are not traced. Sampling follows OTEL_TRACES_SAMPLER(_ARG) (see samplerFromEnv): the standard head
 * samplers, or `tessera_tail`, the platform's default, which keeps errors and slow requests (tail-sampling.ts).
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  const env = options.env ?? process.env;
  const otlp = Boolean(env['OTEL_EXPORTER_OTLP_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']);
  const prometheus = prometheusEndpoint(options.serviceName, env);
  setLoggerServiceName(options.serviceName);

  const spanProcessors: tracing.SpanProcessor[] = [];
  // OTEL_TRACES_EXPORTER picks otlp / zipkin / console / none (exporters.ts); OTLP reads OTEL_EXPORTER_OTLP_* itself.
  const traces = traceExporterNames(env);
  const exporting = traceSpanProcessors(traces, env);
  // OTEL_TRACES_SAMPLER=tessera_tail: undecided spans wait for the trace's outcome before reaching the exporters.
  const tail = tailPolicyFromEnv(env);
  spanProcessors.push(...(tail && exporting.length > 0 ? [new TailSamplingSpanProcessor(exporting, tail)] : exporting));
  // NodeSDK registers no tracer provider without a processor; keep ids and propagation working anyway.
  if (spanProcessors.length === 0) spanProcessors.push(new tracing.NoopSpanProcessor());

  const metricReaders: MetricReader[] = [];
  let admin: Server | undefined;
  if (otlp) metricReaders.push(new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter(), exportIntervalMillis: 10_000 }));
  if (prometheus) {
    // service_name on every series, so a raw scrape (or a Prometheus without relabelling) tells services apart.
    // The exporter's own server is not started: the admin endpoint serves its handler beside /log-level.
    const exporter = new PrometheusExporter({ withResourceConstantLabels: /^service\.name$/, preventServerStart: true });
    metricReaders.push(exporter);
    admin = startAdminEndpoint({
      host: prometheus.host,
      port: prometheus.port,
      metrics: (request, response) => exporter.getMetricsRequestHandler(request, response),
      // A taken port must not stop the service, but it must not go unnoticed either.
      onError: (error) =>
        process.stderr.write(
          `${JSON.stringify({ level: 'error', msg: `metrics endpoint ${prometheus.host}:${prometheus.port} failed to start: ${error.message}` })}\n`,
        ),
    });
  }

  const sdk = new NodeSDK({
    resource: resources.resourceFromAttributes({
      'service.name': options.serviceName,
      'service.version': options.serviceVersion ?? env['npm_package_version'] ?? '0.0.0',
      'deployment.environment.name': options.environment ?? env['DEPLOYMENT_ENVIRONMENT'] ?? env['NODE_ENV'] ?? 'local',
    }),
    textMapPropagator: new core.CompositePropagator({
      propagators: [new core.W3CTraceContextPropagator(), new core.W3CBaggagePropagator()],
    }),
    sampler: samplerFromEnv(env),
    spanProcessors,
    metricReaders,
    logRecordProcessors: otlp ? [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter() })] : [],
    instrumentations: [
      new HttpInstrumentation({
        // Scrapes of the metrics endpoint are not traffic: no spans, no http.server.request.duration samples.
        ignoreIncomingRequestHook: (request) => prometheus !== undefined && request.socket.localPort === prometheus.port,
      }),
      new GrpcInstrumentation(),
      // No span per pool checkout (pg-pool.connect): one per query with Prisma's pool, pure noise beside the query span.
      new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
      ...(options.kafkajs === false ? [] : [new KafkaJsInstrumentation()]),
      // createLogger adds trace_id/span_id itself; the instrumentation only ships records over OTLP.
      new PinoInstrumentation({ disableLogCorrelation: true, disableLogSending: !otlp }),
      new NestInstrumentation(),
    ],
  });
  sdk.start();

  let stopped: Promise<void> | undefined;
  return {
    exporters: { otlp, traces, prometheus },
    shutdown: () =>
      (stopped ??= Promise.all([sdk.shutdown(), new Promise<void>((done) => (admin ? admin.close(() => done()) : done()))]).then(
        () => undefined,
      )),
  };
}
