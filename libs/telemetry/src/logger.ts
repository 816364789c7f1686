import { trace } from '@opentelemetry/api';
import pino, { type Logger, type LoggerOptions } from 'pino';
import { registerLogger } from './log-level';

export type { Logger } from 'pino';

/**
 * Paths pino masks before a line is written. Pino's `*` matches exactly one level, so the common
 * nestings are spelled out; keep secrets and PII out of log calls in the first place, this is the net.
 */
export const REDACTED_PATHS: readonly string[] = [
  'password',
  '*.password',
  '*.*.password',
  'secret',
  '*.secret',
  '*.*.secret',
  'token',
  '*.token',
  '*.*.token',
  'accessToken',
  '*.accessToken',
  'refreshToken',
  '*.refreshToken',
  'authorization',
  '*.authorization',
  '*.*.authorization',
  '*.headers.authorization',
  '*.*.headers.authorization',
  'cookie',
  '*.cookie',
  '*.headers.cookie',
  '*.*.headers.cookie',
  'nationalId',
  '*.nationalId',
  '*.*.nationalId',
  'cardNumber',
  '*.cardNumber',
  '*.*.cardNumber',
  'pan',
  '*.pan',
  'cvv',
  '*.cvv',
  'iban',
  '*.iban',
  '*.*.iban',
  'email',
  '*.email',
  '*.*.email',
  'phone',
  '*.phone',
  '*.*.phone',
  'dateOfBirth',
  '*.dateOfBirth',
];

/** The masked key names: the last segment of every REDACTED_PATHS entry. */
const REDACTED_KEYS: ReadonlySet<string> = new Set(REDACTED_PATHS.map((p) => p.slice(p.lastIndexOf('.') + 1)));
/** How deep keys are looked at: the deepest path above is `*.*.headers.authorization` (a key at depth 3). */
const REDACT_DEPTH = 3;
const CENSOR = '[REDACTED]';

/**
 * The log object with every REDACTED_KEYS key in its first levels masked; copies only along a path that holds one,
 * so a clean object (nearly every line) is returned as is, without allocating.
 *
 * Why not pino's `redact` option: with these wildcard paths it cost 46 µs and a deep clone per log line (84 µs with
 * an error), 7-16x the rest of logging; under overload, when every call logs a failure, it was ~45% of compliance's
 * allocations and drove the garbage collector (issue #10). This walk masks a superset of REDACTED_PATHS (any
 * listed key name down to depth 3, not only the spelled-out nestings) in ~1 µs.
 */
export function redactLogObject<T>(value: T, depth = 0): T {
  if (depth > REDACT_DEPTH || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item, i) => {
      const masked = redactLogObject(item, depth + 1);
      if (masked !== item) (copy ??= [...value])[i] = masked;
    });
    return (copy ?? value) as T;
  }
  let copy: Record<string, unknown> | undefined;
  const source = value as Record<string, unknown>;
  for (const key of Object.keys(source)) {
    const item = source[key];
    const masked = REDACTED_KEYS.has(key) ? CENSOR : redactLogObject(item, depth + 1);
    if (masked !== item) (copy ??= shallowCopy(source))[key] = masked;
  }
  return (copy ?? value) as T;
}

/** A shallow copy that stays an Error (pino's err serializer needs one) when the original is. */
function shallowCopy(source: Record<string, unknown>): Record<string, unknown> {
  if (!(source instanceof Error)) return { ...source };
  const error = Object.assign(Object.create(Object.getPrototypeOf(source) as object) as Error, source);
  error.message = source.message;
  if (source.stack !== undefined) error.stack = source.stack;
  if ('cause' in source) (error as { cause?: unknown }).cause = (source as { cause?: unknown }).cause;
  return error as unknown as Record<string, unknown>;
}

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
    formatters: { level: (label) => ({ level: label }), log: (object) => redactLogObject(object) },
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
