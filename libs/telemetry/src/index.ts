export { createLogger, traceFields, setLoggerServiceName, REDACTED_PATHS } from './logger';
export type { Logger, CreateLoggerOptions } from './logger';
export { startTelemetry, prometheusEndpoint, TelemetryConfigError, TEST_SPANS_FILE_ENV } from './start-telemetry';
export type { Telemetry, TelemetryOptions, PrometheusEndpoint } from './start-telemetry';
export { JsonLinesSpanExporter, parseSpanLines, toSpanRecord } from './json-lines-span.exporter';
export type { SpanRecord } from './json-lines-span.exporter';
