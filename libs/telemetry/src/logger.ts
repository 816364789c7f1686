import { trace } from '@opentelemetry/api';
import pino, { type Logger, type LoggerOptions } from 'pino';
import { registerLogger } from './log-level';

export type { Logger } from 'pino';

/**
 * Paths pino masks before a line is written. Pino's `*` matches exactly one level, so the common
 * nestings are spelled out; keep secrets and PII out of log calls in the first place, this is the net.
 */
export const REDACTED_PATHS: readonly string[] = [
  'password', '*.password', '*.*.password',
  'secret', '*.secret', '*.*.secret',
  'token', '*.token', '*.*.token', 'accessToken', '*.accessToken', 'refreshToken', '*.refreshToken',
  'authorization', '*.authorization', '*.*.authorization', '*.headers.authorization', '*.*.headers.authorization',
  'cookie', '*.cookie', '*.headers.cookie', '*.*.headers.cookie',
  'nationalId', '*.nationalId', '*.*.nationalId',
  'cardNumber', '*.cardNumber', '*.*.cardNumber', 'pan', '*.pan', 'cvv', '*.cvv',
  'iban', '*.iban', '*.*.iban',
  'email', '*.email', '*.*.email',
  'phone', '*.phone', '*.*.phone',
  'dateOfBirth', '*.dateOfBirth',
];

let defaultServiceName: string | undefined;

/** Lets `startTelemetry` name the service once so every logger created afterwards carries it. */
export function setLoggerServiceName(serviceName: string): void {
  defaultServiceName = serviceName;
}

export interface CreateLoggerOptions {
  /** Overrides OTEL_SERVICE_NAME / the name given to startTelemetry. */
  service?: string;
  /** Defaults to LOG_LEVEL or `info`; a level set at runtime (PUT /log-level) wins over both. */
  level?: string;
  /** Where lines go; tests pass a stream to capture them. Defaults to stdout. */
  destination?: pino.DestinationStream;
}

/**
 * Structured JSON logger named after its owner (`name`, usually the class). Each line carries
 * `service`, and `trace_id`/`span_id` of the span active at the call, so logs join traces without
 * depending on the pino instrumentation being loaded (it is configured not to add them twice).
 */
export function createLogger(name: string, options: CreateLoggerOptions = {}): Logger {
  const config: LoggerOptions = {
    name,
    level: options.level ?? process.env['LOG_LEVEL'] ?? 'info',
    base: {
      service: options.service ?? defaultServiceName ?? process.env['OTEL_SERVICE_NAME'] ?? 'unknown',
      pid: process.pid,
    },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: [...REDACTED_PATHS], censor: '[REDACTED]' },
    mixin: traceFields,
  };
  const create = currentPino();
  const logger = options.destination ? create(config, options.destination) : create(config);
  // Registered so the admin endpoint (PUT /log-level) can change every logger's level at runtime.
  registerLogger(logger);
  return logger;
}

/**
 * pino as `require` returns it now, not the binding imported when this module loaded. `@tessera/telemetry`
 * (and so pino) is loaded by instrumentation.ts before startTelemetry registers the pino instrumentation, whose
 * hook hands later `require('pino')` calls a wrapped factory that also ships records over OTLP; the early
 * import would bypass it and no log record would ever be exported.
 */
function currentPino(): typeof pino {
  return require('pino') as typeof pino;
}

/** The active span's ids, or nothing outside a span (an all-zero id would mislead). */
export function traceFields(): Record<string, string> {
  const ctx = trace.getActiveSpan()?.spanContext();
  if (!ctx || !trace.isSpanContextValid(ctx)) return {};
  return { trace_id: ctx.traceId, span_id: ctx.spanId, trace_flags: `0${ctx.traceFlags.toString(16)}` };
}
