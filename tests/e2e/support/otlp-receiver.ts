/**
 * The e2e suites' trace backend: an in-process OTLP/HTTP receiver the spawned services export to (see
 * {@link OtlpReceiver}). It lives in @tessera/telemetry so library and integration tests use the same one.
 */
export { OtlpReceiver, formatTree, spansFromOtlp, logsFromOtlp } from '@tessera/telemetry';
export type { SpanRecord, SpanLink, SpanEvent, LogRecord } from '@tessera/telemetry';
