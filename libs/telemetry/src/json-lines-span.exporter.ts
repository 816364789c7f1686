import { appendFileSync } from 'node:fs';
import { core, type tracing } from '@opentelemetry/sdk-node';

type ReadableSpan = tracing.ReadableSpan;
type ExportResult = core.ExportResult;

/** One finished span as written to the test spans file; ids are W3C hex strings. */
export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: number;
  service: string | undefined;
  startTimeUs: number;
  durationUs: number;
  status: { code: number; message?: string };
  attributes: Record<string, unknown>;
}

/**
 * Appends each finished span as one JSON line to a file. Several processes may share the file:
 * each line is one `appendFileSync` (O_APPEND), so lines do not interleave. Meant for e2e tests
 * that assert a single trace crosses every hop; not for production.
 */
export class JsonLinesSpanExporter implements tracing.SpanExporter {
  constructor(private readonly path: string) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    try {
      const lines = spans.map((span) => JSON.stringify(toSpanRecord(span)) + '\n').join('');
      if (lines) appendFileSync(this.path, lines);
      resultCallback({ code: core.ExportResultCode.SUCCESS });
    } catch (error) {
      resultCallback({ code: core.ExportResultCode.FAILED, error: error as Error });
    }
  }

  async shutdown(): Promise<void> {
    // Nothing buffered: every export is written synchronously.
  }
}

export function toSpanRecord(span: ReadableSpan): SpanRecord {
  const ctx = span.spanContext();
  return {
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    name: span.name,
    kind: span.kind,
    service: span.resource.attributes['service.name'] as string | undefined,
    startTimeUs: core.hrTimeToMicroseconds(span.startTime),
    durationUs: core.hrTimeToMicroseconds(span.duration),
    status: span.status,
    attributes: { ...span.attributes },
  };
}

/** Reads a spans file written by {@link JsonLinesSpanExporter} (helper for tests). */
export function parseSpanLines(text: string): SpanRecord[] {
  return text.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as SpanRecord);
}
