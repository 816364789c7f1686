import { SpanStatusCode, trace } from '@opentelemetry/api';
import { node } from '@opentelemetry/sdk-node';
import type { EmittedAggregate } from '../processing/partition-state';
import { traceWindowCloses, windowCloseCounts } from './window-close.tracing';

const exporter = new node.InMemorySpanExporter();
const provider = new node.NodeTracerProvider({ spanProcessors: [new node.SimpleSpanProcessor(exporter)] });
provider.register();

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
function aggregate(startMs: number, closing: boolean, dimValue = ''): EmittedAggregate {
  const id = {
    tenantId: 'acme',
    streamId: 'web',
    metric: 'page.view',
    dimKey: dimValue ? 'email' : '',
    dimValue,
    sizeMs: 10_000,
    slideMs: 10_000,
    startMs,
  };
  return {
    id,
    windowKey: `acme|web|page.view|${id.dimKey}=${dimValue}|10|10|${startMs}`,
    summary: { count: 3, sum: 6, min: 1, max: 3, p50: 2, p95: 3, p99: 3, distinct: 2, maxEventTimeMs: startMs + 9_500 },
    late: 1,
    revision: 4,
    final: true,
    closing,
  };
}

afterEach(() => exporter.reset());
afterAll(() => provider.shutdown());

describe(traceWindowCloses, () => {
  it('records one `window close` child span per finalised window, with window facts and no dimension value', async () => {
    await trace.getTracer('test').startActiveSpan('aggregate window batch', async (batch) => {
      await traceWindowCloses([aggregate(T0, true, 'jane@example.com'), aggregate(T0 + 10_000, false)], async () => undefined);
      batch.end();
    });

    const closes = exporter.getFinishedSpans().filter((s) => s.name === 'window close');
    const batch = exporter.getFinishedSpans().find((s) => s.name === 'aggregate window batch');
    expect(closes).toHaveLength(1);
    const [close] = closes;
    expect(close?.parentSpanContext?.spanId).toBe(batch?.spanContext().spanId);
    expect(close?.spanContext().traceId).toBe(batch?.spanContext().traceId);
    expect(close?.attributes).toEqual({
      'tessera.tenant': 'acme',
      'tessera.window.stream': 'web',
      'tessera.window.metric': 'page.view',
      'tessera.window.dimension': 'email',
      'tessera.window.start': '2026-01-01T12:00:00.000Z',
      'tessera.window.size_s': 10,
      'tessera.window.slide_s': 10,
      'tessera.window.revision': 4,
      'tessera.window.events': 3,
      'tessera.window.late_events': 1,
      'tessera.window.max_event_time': '2026-01-01T12:00:09.500Z',
    });
    expect(JSON.stringify(close?.attributes)).not.toContain('jane@example.com');
  });

  it('marks the spans failed when the transaction aborts, and rethrows', async () => {
    await expect(traceWindowCloses([aggregate(T0, true)], async () => Promise.reject(new TypeError('aborted')))).rejects.toThrow('aborted');
    expect(exporter.getFinishedSpans().map((s) => [s.name, s.status.code])).toEqual([['window close', SpanStatusCode.ERROR]]);
  });

  it('records at most `max` spans; the batch counts every closed window and the spans left out', async () => {
    const many = Array.from({ length: 5 }, (_, i) => aggregate(T0 + i * 10_000, true));
    await traceWindowCloses(many, async () => undefined, 3);
    expect(exporter.getFinishedSpans()).toHaveLength(3);
    expect(windowCloseCounts([...many, aggregate(0, false)], 3)).toEqual({
      'tessera.windows.closed': 5,
      'tessera.windows.close_spans_dropped': 2,
    });
  });
});
