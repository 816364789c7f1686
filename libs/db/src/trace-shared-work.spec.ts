import { context, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { node } from '@opentelemetry/sdk-node';
import { traceSharedWork } from './coalescer';

const exporter = new node.InMemorySpanExporter();
const provider = new node.NodeTracerProvider({ spanProcessors: [new node.SimpleSpanProcessor(exporter)] });
provider.register();
const tracer = trace.getTracer('test');

describe('traceSharedWork', () => {
  beforeEach(() => exporter.reset());

  /** Three traces (a carries the work), a second span in a's trace, and an untraced item. */
  function items() {
    const [a, b, c] = ['a', 'b', 'c'].map((n) => tracer.startSpan(`event ${n}`, { root: true })) as [Span, Span, Span];
    const sameTrace = tracer.startSpan('event a2', {}, trace.setSpan(context.active(), a));
    const ctx = (s: Span) => trace.setSpan(context.active(), s);
    return {
      a,
      b,
      c,
      sameTrace,
      contexts: [ctx(b), undefined, ctx(c), ctx(sameTrace)],
      under: <R>(fn: () => R) => context.with(ctx(a), fn),
    };
  }

  it("runs the work once, under the carrier, and gives each other traced item's trace a linked span for it", async () => {
    const { a, b, c, contexts, under } = items();
    let runs = 0;
    const result = await under(() =>
      traceSharedWork(contexts, 'claim rows', { 'db.system.name': 'postgresql', 'db.query.text': 'INSERT INTO t ...' }, async () => {
        runs++;
        expect(trace.getActiveSpan()).toBe(a);
        return 42;
      }),
    );
    expect(result).toBe(42);
    expect(runs).toBe(1);
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.spanContext().traceId).sort()).toEqual([b, c].map((s) => s.spanContext().traceId).sort());
    for (const [span, parent] of [
      [spans.find((s) => s.spanContext().traceId === b.spanContext().traceId), b],
      [spans.find((s) => s.spanContext().traceId === c.spanContext().traceId), c],
    ] as const) {
      expect(span?.name).toBe('claim rows');
      expect(span?.kind).toBe(SpanKind.CLIENT);
      expect(span?.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
      expect(span?.links.map((l) => l.context.spanId)).toEqual([a.spanContext().spanId]);
      expect(span?.attributes).toEqual({
        'db.system.name': 'postgresql',
        'db.query.text': 'INSERT INTO t ...',
        'tessera.coalesced.items': 5,
        'tessera.coalesced.into': a.spanContext().traceId,
      });
      expect(span?.status.code).toBe(SpanStatusCode.UNSET);
    }
  });

  it('marks the shared spans failed and rethrows when the work fails', async () => {
    const { contexts, under } = items();
    await expect(
      under(() =>
        traceSharedWork(contexts, 'claim rows', {}, async () => {
          throw new Error('deadlock detected');
        }),
      ),
    ).rejects.toThrow('deadlock detected');
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(2);
    for (const s of spans) expect(s.status).toEqual({ code: SpanStatusCode.ERROR, message: 'deadlock detected' });
  });
});
