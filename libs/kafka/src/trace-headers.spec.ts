import { context, propagation, trace } from '@opentelemetry/api';
import { node } from '@opentelemetry/sdk-node';
import { extractTraceContext, injectTraceContext } from './trace-headers';

describe('trace headers', () => {
  const provider = new node.NodeTracerProvider();
  beforeAll(() => provider.register());
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });

  describe('injectTraceContext', () => {
    it('writes the active span as a W3C traceparent', () => {
      const span = trace.getTracer('t').startSpan('op');
      const fields = context.with(trace.setSpan(context.active(), span), () => injectTraceContext());
      span.end();
      const { traceId, spanId } = span.spanContext();
      expect(fields['traceparent']).toBe(`00-${traceId}-${spanId}-01`);
    });

    it('writes nothing outside a span', () => {
      expect(injectTraceContext()).toEqual({});
    });
  });

  describe('extractTraceContext', () => {
    const fromHeader = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const fromEnvelope = '00-11111111111111111111111111111111-2222222222222222-01';

    it('prefers the Kafka header (Buffer values) over the envelope field', () => {
      const ctx = extractTraceContext({ traceparent: Buffer.from(fromHeader) }, { traceparent: fromEnvelope });
      expect(trace.getSpanContext(ctx)).toMatchObject({
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'b7ad6b7169203331',
        isRemote: true,
      });
    });

    it('falls back to the envelope when headers carry no trace', () => {
      const ctx = extractTraceContext({}, { traceparent: fromEnvelope });
      expect(trace.getSpanContext(ctx)?.traceId).toBe('11111111111111111111111111111111');
    });

    it('returns the base context when there is nothing to extract', () => {
      expect(trace.getSpanContext(extractTraceContext(undefined, undefined))).toBeUndefined();
    });
  });
});
