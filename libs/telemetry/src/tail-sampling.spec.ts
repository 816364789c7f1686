import { propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import { core, tracing } from '@opentelemetry/sdk-node';
import { tailPolicyFromEnv } from './sampler';
import { DEFAULT_TAIL_POLICY, TailKeepSampler, TailSamplingSpanProcessor, traceIdInRatio } from './tail-sampling';

// The real SDK tracer and span lifecycle; only the exporter is in memory.
function setup(
  policy: { ratio?: number; perSecond?: number; slowMs?: number; maxBufferedSpans?: number; maxWaitMs?: number } = {},
  now = () => clock,
) {
  const exporter = new tracing.InMemorySpanExporter();
  const processor = new TailSamplingSpanProcessor(
    [new tracing.SimpleSpanProcessor(exporter)],
    { slowMs: policy.slowMs ?? 500, maxBufferedSpans: policy.maxBufferedSpans ?? 1000, maxWaitMs: policy.maxWaitMs ?? 30_000 },
    now,
  );
  const provider = new tracing.BasicTracerProvider({
    sampler: new TailKeepSampler({ ratio: policy.ratio ?? 0, perSecond: policy.perSecond ?? 0 }, now),
    spanProcessors: [processor],
  });
  const tracer = provider.getTracer('tail-spec');
  const names = () => exporter.getFinishedSpans().map((s) => s.name);
  return { exporter, processor, provider, tracer, names };
}

let clock = 1_000_000;
const w3c = new core.W3CTraceContextPropagator();
beforeAll(() => propagation.setGlobalPropagator(w3c));
afterAll(() => propagation.disable());

/** A root span with one child, the child ending first, as a request handler and its database call do. */
function request(tracer: Tracer): void {
  const root = tracer.startSpan('request');
  tracer.startSpan('query', {}, trace.setSpan(ROOT_CONTEXT, root)).end();
  root.end();
}

describe('TailKeepSampler', () => {
  it('records every trace and marks it in the tracestate: k when kept at the head, t otherwise', () => {
    const kept = setup({ ratio: 1 });
    expect(kept.tracer.startSpan('a').spanContext().traceState?.serialize()).toBe('tessera=k');
    const tail = setup({ ratio: 0 });
    const span = tail.tracer.startSpan('b');
    expect(span.isRecording()).toBe(true);
    expect(span.spanContext().traceFlags & 1).toBe(1);
    expect(span.spanContext().traceState?.serialize()).toBe('tessera=t');
  });

  it('keeps the first perSecond new requests each second (the reservoir), then refills; background roots by ratio only', () => {
    const { tracer } = setup({ perSecond: 2 });
    const marks = () => tracer.startSpan('root', { kind: SpanKind.SERVER }).spanContext().traceState?.get('tessera');
    expect([marks(), marks(), marks()]).toEqual(['k', 'k', 't']);
    clock += 500;
    expect([marks(), marks()]).toEqual(['k', 't']);
    clock += 1000;
    expect(
      ['poll', 'relay'].map((name) => tracer.startSpan(name, { kind: SpanKind.INTERNAL }).spanContext().traceState?.get('tessera')),
    ).toEqual(['t', 't']);
  });

  it('follows a marked parent (local or remote) and honours a remote "not sampled"', () => {
    const { tracer } = setup({ perSecond: 100 });
    const remote = (header: Record<string, string>) => propagation.extract(ROOT_CONTEXT, header);
    const id = '4bf92f3577b34da6a3ce929d0e0e4736';
    expect(
      tracer
        .startSpan('x', {}, remote({ traceparent: `00-${id}-00f067aa0ba902b7-01`, tracestate: 'tessera=t' }))
        .spanContext()
        .traceState?.get('tessera'),
    ).toBe('t');
    expect(
      tracer
        .startSpan('x', {}, remote({ traceparent: `00-${id}-00f067aa0ba902b7-01`, tracestate: 'tessera=k,other=1' }))
        .spanContext()
        .traceState?.serialize(),
    ).toBe('tessera=k,other=1');
    expect(tracer.startSpan('x', {}, remote({ traceparent: `00-${id}-00f067aa0ba902b7-00` })).isRecording()).toBe(false);
    // A caller outside the platform (no mark, e.g. the console's own traceparent): a request it makes is decided like a
    // new one (the reservoir has tokens here), keeping the caller's tracestate entries; a consumer span under such a
    // trace is decided by ratio only (0 here).
    const foreign = () => remote({ traceparent: `00-${id}-00f067aa0ba902b7-01`, tracestate: 'vendor=v' });
    expect(tracer.startSpan('x', { kind: SpanKind.SERVER }, foreign()).spanContext().traceState?.serialize()).toBe('tessera=k,vendor=v');
    expect(tracer.startSpan('x', { kind: SpanKind.CONSUMER }, foreign()).spanContext().traceState?.serialize()).toBe('tessera=t,vendor=v');
  });

  it('decides the ratio from the trace id, so every process agrees', () => {
    expect(traceIdInRatio('4bf92f3577b34da6a3ce929d00000000', 0.01)).toBe(true);
    expect(traceIdInRatio('4bf92f3577b34da6a3ce929dffffffff', 0.99)).toBe(false);
    expect(traceIdInRatio('4bf92f3577b34da6a3ce929dffffffff', 1)).toBe(true);
    expect(traceIdInRatio('4bf92f3577b34da6a3ce929d00000000', 0)).toBe(false);
  });
});

describe('TailSamplingSpanProcessor', () => {
  afterEach(() => (clock = 1_000_000));

  it('drops a fast, successful trace once all of its spans have ended, holding nothing after', () => {
    const { tracer, names, processor } = setup();
    request(tracer);
    expect(names()).toEqual([]);
    expect(processor.heldSpans).toBe(0);
  });

  it('exports the whole trace, spans that ended earlier included, when one span fails', () => {
    const { tracer, names } = setup();
    const root = tracer.startSpan('request');
    const ctx = trace.setSpan(ROOT_CONTEXT, root);
    tracer.startSpan('auth', {}, ctx).end();
    const failing = tracer.startSpan('query', {}, ctx);
    expect(names()).toEqual([]);
    failing.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
    failing.end();
    expect(names()).toEqual(['auth', 'query']);
    root.end();
    expect(names()).toEqual(['auth', 'query', 'request']);
  });

  it('exports a trace with a slow span', () => {
    const { tracer, names } = setup({ slowMs: 500 });
    const root = tracer.startSpan('request', { startTime: [1000, 0] });
    tracer.startSpan('query', { startTime: [1000, 0] }, trace.setSpan(ROOT_CONTEXT, root)).end([1000, 100_000_000]);
    root.end([1000, 600_000_000]);
    expect(names()).toEqual(['query', 'request']);
  });

  it('exports head-kept traces at once, without holding them', () => {
    const { tracer, names, processor } = setup({ ratio: 1 });
    const root = tracer.startSpan('request');
    tracer.startSpan('query', {}, trace.setSpan(ROOT_CONTEXT, root)).end();
    expect(names()).toEqual(['query']);
    expect(processor.heldSpans).toBe(0);
    root.end();
    expect(names()).toEqual(['query', 'request']);
  });

  it('keeps traces apart: one failing trace does not keep a concurrent fast one', () => {
    const { tracer, names } = setup();
    const fast = tracer.startSpan('fast');
    const slowRoot = tracer.startSpan('failing');
    fast.end();
    slowRoot.setStatus({ code: SpanStatusCode.ERROR });
    slowRoot.end();
    expect(names()).toEqual(['failing']);
  });

  it('decides a trace whose spans never all end after maxWaitMs, and judges a late span alone', async () => {
    let now = 0;
    const { tracer, names, processor } = setup({ maxWaitMs: 200 }, () => now);
    const root = tracer.startSpan('never-ends');
    tracer.startSpan('child', {}, trace.setSpan(ROOT_CONTEXT, root)).end();
    expect(processor.heldSpans).toBe(1);
    now = 1000;
    await new Promise((resolve) => setTimeout(resolve, 250)); // the sweeper runs every maxWaitMs / 2
    expect(processor.heldSpans).toBe(0);
    root.setStatus({ code: SpanStatusCode.ERROR });
    root.end();
    expect(names()).toEqual(['never-ends']);
  });

  it('holds at most maxBufferedSpans, deciding the oldest traces first', () => {
    const { tracer, processor } = setup({ maxBufferedSpans: 3 });
    const roots = Array.from({ length: 3 }, () => tracer.startSpan('open'));
    for (const root of roots) {
      tracer.startSpan('c1', {}, trace.setSpan(ROOT_CONTEXT, root)).end();
      tracer.startSpan('c2', {}, trace.setSpan(ROOT_CONTEXT, root)).end();
    }
    expect(processor.heldSpans).toBeLessThanOrEqual(3);
  });

  it('passes unmarked spans (another sampler upstream) straight through', () => {
    const exporter = new tracing.InMemorySpanExporter();
    const processor = new TailSamplingSpanProcessor([new tracing.SimpleSpanProcessor(exporter)], {
      slowMs: 500,
      maxBufferedSpans: 10,
      maxWaitMs: 30_000,
    });
    const provider = new tracing.BasicTracerProvider({ spanProcessors: [processor] });
    provider.getTracer('x').startSpan('plain').end();
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['plain']);
    void processor.shutdown();
  });
});

describe('tailPolicyFromEnv', () => {
  it('is off for the standard samplers and defaults to 1% + 10 traces/s + 500 ms', () => {
    expect(tailPolicyFromEnv({})).toBeUndefined();
    expect(tailPolicyFromEnv({ OTEL_TRACES_SAMPLER: 'parentbased_always_on' })).toBeUndefined();
    expect(tailPolicyFromEnv({ OTEL_TRACES_SAMPLER: 'tessera_tail' })).toEqual(DEFAULT_TAIL_POLICY);
    expect(DEFAULT_TAIL_POLICY).toMatchObject({ ratio: 0.01, perSecond: 10, slowMs: 500 });
    expect(
      tailPolicyFromEnv({
        OTEL_TRACES_SAMPLER: 'tessera_tail',
        OTEL_TRACES_SAMPLER_ARG: '0.5',
        TESSERA_TRACES_KEEP_PER_SECOND: '0',
        TESSERA_TRACES_SLOW_MS: '250',
      }),
    ).toMatchObject({ ratio: 0.5, perSecond: 0, slowMs: 250 });
  });

  it('refuses bad values naming the variable', () => {
    expect(() => tailPolicyFromEnv({ OTEL_TRACES_SAMPLER: 'tessera_tail', OTEL_TRACES_SAMPLER_ARG: '2' })).toThrow(
      /OTEL_TRACES_SAMPLER_ARG/,
    );
    expect(() => tailPolicyFromEnv({ OTEL_TRACES_SAMPLER: 'tessera_tail', TESSERA_TRACES_SLOW_MS: '0' })).toThrow(/TESSERA_TRACES_SLOW_MS/);
    expect(() => tailPolicyFromEnv({ OTEL_TRACES_SAMPLER: 'tessera_tail', TESSERA_TRACES_KEEP_PER_SECOND: 'lots' })).toThrow(
      /TESSERA_TRACES_KEEP_PER_SECOND/,
    );
  });
});
