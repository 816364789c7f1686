import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/**
 * An in-process OTLP/HTTP receiver for tests (e2e, integration, this library's child-process specs): the spawned services export to it exactly as they would to
 * a collector (OTEL_EXPORTER_OTLP_ENDPOINT=<url>, JSON encoding, the SDK's default for the http exporters),
 * so the tests assert what a real backend would receive — including span links, which Zipkin's model drops.
 *
 * Accepts `POST /v1/traces` and `POST /v1/logs` (kept) and `POST /v1/metrics` (acknowledged, dropped: the
 * metrics are asserted on the Prometheus endpoint). Protobuf bodies are refused with 415 so a misconfigured
 * exporter fails loudly in the service log instead of silently losing spans.
 */

export interface SpanLink {
  traceId: string;
  spanId: string;
  attributes: Record<string, unknown>;
}

export interface SpanEvent {
  name: string;
  attributes: Record<string, unknown>;
}

/** One span as received; ids are W3C hex strings, attributes flattened to plain values. */
export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  /** The API's `SpanKind` (OTLP's value minus one): 0 INTERNAL, 1 SERVER, 2 CLIENT, 3 PRODUCER, 4 CONSUMER. */
  kind: number;
  service: string | undefined;
  scope: string | undefined;
  startTimeUs: number;
  durationUs: number;
  status: { code: number; message?: string };
  attributes: Record<string, unknown>;
  events: SpanEvent[];
  links: SpanLink[];
}

/** One log record as received over OTLP (pino lines shipped by instrumentation-pino). */
export interface LogRecord {
  service: string | undefined;
  severityText: string | undefined;
  body: unknown;
  attributes: Record<string, unknown>;
  traceId: string | undefined;
  spanId: string | undefined;
}

interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  bytesValue?: string;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
}
interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}
interface OtlpResource {
  resource?: { attributes?: OtlpKeyValue[] };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes?: OtlpKeyValue[];
  events?: { name: string; attributes?: OtlpKeyValue[] }[];
  links?: { traceId: string; spanId: string; attributes?: OtlpKeyValue[] }[];
  status?: { code?: number; message?: string };
}
interface OtlpTraces {
  resourceSpans?: (OtlpResource & { scopeSpans?: { scope?: { name?: string }; spans?: OtlpSpan[] }[] })[];
}
interface OtlpLogs {
  resourceLogs?: (OtlpResource & {
    scopeLogs?: {
      logRecords?: { severityText?: string; body?: OtlpAnyValue; attributes?: OtlpKeyValue[]; traceId?: string; spanId?: string }[];
    }[];
  })[];
}

function anyValue(value: OtlpAnyValue | undefined): unknown {
  if (!value) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.bytesValue !== undefined) return value.bytesValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(anyValue);
  if (value.kvlistValue) return attributes(value.kvlistValue.values);
  return undefined;
}

function attributes(list: OtlpKeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, anyValue(kv.value)]));
}

/** Nanoseconds (a decimal string in the JSON encoding) to microseconds, without losing them to float. */
function micros(nanos: string | number): number {
  return Number(BigInt(nanos) / 1000n);
}

/** Flattens an OTLP JSON trace export request into span records. */
export function spansFromOtlp(body: OtlpTraces): SpanRecord[] {
  return (body.resourceSpans ?? []).flatMap((rs) => {
    const service = attributes(rs.resource?.attributes)['service.name'] as string | undefined;
    return (rs.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map((span) => ({
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId || undefined,
        name: span.name,
        kind: (span.kind ?? 1) - 1,
        service,
        scope: ss.scope?.name,
        startTimeUs: micros(span.startTimeUnixNano),
        durationUs: micros(span.endTimeUnixNano) - micros(span.startTimeUnixNano),
        status: { code: span.status?.code ?? 0, ...(span.status?.message ? { message: span.status.message } : {}) },
        attributes: attributes(span.attributes),
        events: (span.events ?? []).map((e) => ({ name: e.name, attributes: attributes(e.attributes) })),
        links: (span.links ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId, attributes: attributes(l.attributes) })),
      })),
    );
  });
}

/** Flattens an OTLP JSON logs export request into log records. */
export function logsFromOtlp(body: OtlpLogs): LogRecord[] {
  return (body.resourceLogs ?? []).flatMap((rl) => {
    const service = attributes(rl.resource?.attributes)['service.name'] as string | undefined;
    return (rl.scopeLogs ?? []).flatMap((sl) =>
      (sl.logRecords ?? []).map((log) => ({
        service,
        severityText: log.severityText,
        body: anyValue(log.body),
        attributes: attributes(log.attributes),
        traceId: log.traceId || undefined,
        spanId: log.spanId || undefined,
      })),
    );
  });
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
}

export class OtlpReceiver {
  readonly spans: SpanRecord[] = [];
  readonly logs: LogRecord[] = [];
  /** Export requests per signal path, to tell "nothing exported" from "nothing matched". */
  readonly requests: Record<string, number> = {};
  private readonly server: Server = createServer((req, res) => {
    this.handle(req, res).catch((error: unknown) => res.writeHead(400, { 'content-type': 'text/plain' }).end(String(error)));
  });
  private base = '';

  /** Listens on an ephemeral loopback port (the way to make one). */
  static async start(): Promise<OtlpReceiver> {
    const receiver = new OtlpReceiver();
    await new Promise<void>((resolve, reject) => {
      receiver.server.once('error', reject);
      receiver.server.listen(0, '127.0.0.1', () => resolve());
    });
    receiver.base = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}`;
    return receiver;
  }

  /** Base URL for OTEL_EXPORTER_OTLP_ENDPOINT (the exporters append /v1/<signal>). */
  get url(): string {
    return this.base;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url?.split('?')[0] ?? '';
    if (req.method !== 'POST' || !['/v1/traces', '/v1/logs', '/v1/metrics'].includes(path)) {
      res.writeHead(404).end();
      return;
    }
    if (!String(req.headers['content-type']).startsWith('application/json')) {
      res.writeHead(415, { 'content-type': 'text/plain' }).end('this test receiver speaks OTLP/HTTP JSON only');
      return;
    }
    const body = JSON.parse((await readBody(req)).toString('utf8')) as OtlpTraces & OtlpLogs;
    this.requests[path] = (this.requests[path] ?? 0) + 1;
    if (path === '/v1/traces') this.spans.push(...spansFromOtlp(body));
    if (path === '/v1/logs') this.logs.push(...logsFromOtlp(body));
    // An empty partialSuccess is the OTLP "all accepted" answer.
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  }

  /**
   * Environment for a service exporting here: every signal over OTLP/HTTP JSON, spans batched with a short
   * delay so tests see them within a second, everything sampled (a test asserting a chain must see all of it).
   */
  env(): Record<string, string> {
    return {
      OTEL_EXPORTER_OTLP_ENDPOINT: this.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_TRACES_SAMPLER: 'parentbased_always_on',
      OTEL_BSP_SCHEDULE_DELAY: '200',
      OTEL_BLRP_SCHEDULE_DELAY: '200',
    };
  }

  /** Spans of one trace. */
  trace(traceId: string): SpanRecord[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * The spans of a trace as an indented tree (service, kind, name, ids), for failure messages: when a chain
 * assertion fails the reader sees what was there instead of "expected true".
 */
export function formatTree(spans: SpanRecord[]): string {
  const kinds = ['INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string | undefined, SpanRecord[]>();
  for (const span of [...spans].sort((a, b) => a.startTimeUs - b.startTimeUs)) {
    const parent = span.parentSpanId && ids.has(span.parentSpanId) ? span.parentSpanId : undefined;
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const lines: string[] = [];
  const walk = (parent: string | undefined, depth: number) => {
    for (const span of children.get(parent) ?? []) {
      const links = span.links.length ? ` links=[${span.links.map((l) => l.spanId).join(',')}]` : '';
      lines.push(
        `${'  '.repeat(depth)}${span.service}:${kinds[span.kind]} ${span.name} (${span.spanId}${span.parentSpanId && depth === 0 ? ` parent=${span.parentSpanId}` : ''})${links}`,
      );
      walk(span.spanId, depth + 1);
    }
  };
  walk(undefined, 0);
  return lines.join('\n') || '(no spans)';
}
