import { tracing } from '@opentelemetry/sdk-node';
import { TelemetryConfigError } from './telemetry-config.error';

/** The standard OTEL_TRACES_SAMPLER values (the `jaeger_remote`/`xray` ones need extra packages; not supported). */
export const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
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
  const name = (env['OTEL_TRACES_SAMPLER']?.trim() || 'parentbased_always_on').toLowerCase();
  if (!(SAMPLERS as readonly string[]).includes(name)) {
    throw new TelemetryConfigError('OTEL_TRACES_SAMPLER', `expected one of ${SAMPLERS.join(', ')}, got "${name}"`);
  }
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
  }
}
