export { createLogger, traceFields, setLoggerServiceName, REDACTED_PATHS } from './logger';
export type { Logger, CreateLoggerOptions } from './logger';
export { setLogLevel, currentLogLevel, runtimeLogLevel, isLogLevel, LOG_LEVELS } from './log-level';
export type { LogLevel } from './log-level';
export { startTelemetry, prometheusEndpoint, TelemetryConfigError } from './start-telemetry';
export type { Telemetry, TelemetryOptions, PrometheusEndpoint } from './start-telemetry';
export { traceExporterNames, zipkinEndpoint, DEFAULT_ZIPKIN_ENDPOINT, TRACE_EXPORTERS } from './exporters';
export type { TraceExporterName } from './exporters';
export { samplerFromEnv, tailPolicyFromEnv, SAMPLERS } from './sampler';
export { DEFAULT_TAIL_POLICY, TailKeepSampler, TailSamplingSpanProcessor, TRACE_STATE_KEY, traceIdInRatio } from './tail-sampling';
export type { TailPolicy } from './tail-sampling';
export type { SamplerName } from './sampler';
export { startAdminEndpoint } from './admin-endpoint';
export type { AdminEndpointOptions } from './admin-endpoint';
export { OtlpReceiver, formatTree, spansFromOtlp, logsFromOtlp } from './otlp-receiver';
export type { SpanRecord, SpanLink, SpanEvent, LogRecord } from './otlp-receiver';
export { reportComponentFailure, onComponentFailure, componentFailures, clearComponentFailures } from './liveness';
export type { ComponentFailure } from './liveness';
export { markSpanFailed } from './span-error';
export {
  activeFaults,
  clearFaults,
  FAULT_NAMES,
  FaultRefusedError,
  injectFault,
  isFaultName,
  setFault,
  type ActiveFault,
  type FaultName,
  type FaultSpec,
} from './faults';
