import { tracing } from '@opentelemetry/sdk-node';
import { DEFAULT_TAIL_POLICY, TailKeepSampler, type TailPolicy } from './tail-sampling';
import { TelemetryConfigError } from './telemetry-config.error';

/**
 * The standard OTEL_TRACES_SAMPLER values (the `jaeger_remote`/`xray` ones need extra packages; not supported), and
 * `tessera_tail`, the platform's policy: keep errors and slow requests, sample the rest (tail-sampling.ts).
 */
export const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
  'tessera_tail',
] as const;
export type SamplerName = (typeof SAMPLERS)[number];

/**
 * The head sampler named by the standard `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG` variables.
 *
 * The SDK reads the same variables itself, but only from `process.env` and, on a typo, logs through `diag`
 * (silent unless a diag logger is set) and samples everything; here a bad value stops the service with a
 * message naming the variable, like every other config error. Default `parentbased_always_on`, the SDK's.
 *
 * `parentbased_*` keeps the caller's decision (the sampled flag of an incoming traceparent, or of a Kafka
 * message's header), so one trace is kept or dropped as a whole across services; only roots use the ratio.
 * Unsampled spans are still created with real ids, so trace ids keep propagating and appearing in logs.
 */
export function samplerFromEnv(env: NodeJS.ProcessEnv): tracing.Sampler {
  const name = samplerName(env);
  const ratio = () => {
    const raw = env['OTEL_TRACES_SAMPLER_ARG']?.trim();
    if (!raw) return 1;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0 || value > 1) {
      throw new TelemetryConfigError('OTEL_TRACES_SAMPLER_ARG', `expected a ratio between 0 and 1, got "${raw}"`);
    }
    return value;
  };
  switch (name as SamplerName) {
    case 'always_on':
      return new tracing.AlwaysOnSampler();
    case 'always_off':
      return new tracing.AlwaysOffSampler();
    case 'traceidratio':
      return new tracing.TraceIdRatioBasedSampler(ratio());
    case 'parentbased_always_on':
      return new tracing.ParentBasedSampler({ root: new tracing.AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new tracing.ParentBasedSampler({ root: new tracing.AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new tracing.ParentBasedSampler({ root: new tracing.TraceIdRatioBasedSampler(ratio()) });
    case 'tessera_tail':
      return new TailKeepSampler(tailPolicyFromEnv(env) ?? DEFAULT_TAIL_POLICY);
  }
}

function samplerName(env: NodeJS.ProcessEnv): SamplerName {
  const name = (env['OTEL_TRACES_SAMPLER']?.trim() || 'parentbased_always_on').toLowerCase();
  if (!(SAMPLERS as readonly string[]).includes(name)) {
    throw new TelemetryConfigError('OTEL_TRACES_SAMPLER', `expected one of ${SAMPLERS.join(', ')}, got "${name}"`);
  }
  return name as SamplerName;
}

/**
 * The tail policy when OTEL_TRACES_SAMPLER=tessera_tail, else undefined (every sampled span is exported).
 * OTEL_TRACES_SAMPLER_ARG is the keep ratio (default 0.01), TESSERA_TRACES_KEEP_PER_SECOND the per-process
 * reservoir of new traces kept whatever happens (default 10), TESSERA_TRACES_SLOW_MS what counts as slow (default 500).
 */
export function tailPolicyFromEnv(env: NodeJS.ProcessEnv): TailPolicy | undefined {
  if (samplerName(env) !== 'tessera_tail') return undefined;
  const number = (variable: string, fallback: number, valid: (n: number) => boolean, expected: string): number => {
    const raw = env[variable]?.trim();
    if (!raw) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || !valid(value)) throw new TelemetryConfigError(variable, `expected ${expected}, got "${raw}"`);
    return value;
  };
  return {
    ...DEFAULT_TAIL_POLICY,
    ratio: number('OTEL_TRACES_SAMPLER_ARG', DEFAULT_TAIL_POLICY.ratio, (n) => n >= 0 && n <= 1, 'a ratio between 0 and 1'),
    perSecond: number('TESSERA_TRACES_KEEP_PER_SECOND', DEFAULT_TAIL_POLICY.perSecond, (n) => n >= 0, 'a number of traces per second >= 0'),
    slowMs: number('TESSERA_TRACES_SLOW_MS', DEFAULT_TAIL_POLICY.slowMs, (n) => n > 0, 'milliseconds > 0'),
  };
}
