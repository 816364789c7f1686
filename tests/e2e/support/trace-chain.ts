import { SpanKind } from '@opentelemetry/api';
import { formatTree, type SpanRecord } from './otlp-receiver';

/** A hop of the chain that was missing or hung off the wrong span; the message carries the whole tree. */
export class TraceChainError extends Error {
  override readonly name = 'TraceChainError';
}

/** Queries over one trace's spans that fail with the tree printed, so a broken hop is visible at a glance. */
export class TraceView {
  private readonly byId: Map<string, SpanRecord>;
  constructor(readonly spans: SpanRecord[]) {
    this.byId = new Map(spans.map((s) => [s.spanId, s]));
  }

  fail(message: string): never {
    throw new TraceChainError(`${message}\n\ntrace (${this.spans.length} spans):\n${formatTree(this.spans)}`);
  }

  /** Exactly the spans matching; fails naming `what` when there is none. */
  find(what: string, match: (s: SpanRecord) => boolean): SpanRecord[] {
    const found = this.spans.filter(match);
    if (found.length === 0) this.fail(`no ${what}`);
    return found;
  }

  one(what: string, match: (s: SpanRecord) => boolean): SpanRecord {
    const [first] = this.find(what, match);
    return first ?? this.fail(`no ${what}`);
  }

  /** Whether `ancestor` is on the parent path of `span` (in-process hops may put framework spans between). */
  isDescendant(span: SpanRecord, ancestor: SpanRecord): boolean {
    for (
      let at = span.parentSpanId ? this.byId.get(span.parentSpanId) : undefined;
      at;
      at = at.parentSpanId ? this.byId.get(at.parentSpanId) : undefined
    ) {
      if (at.spanId === ancestor.spanId) return true;
    }
    return false;
  }

  /** The one span matching whose parent is exactly `parent` (a process boundary: client -> server, producer -> consumer). */
  childOf(what: string, parent: SpanRecord, match: (s: SpanRecord) => boolean): SpanRecord {
    const found = this.find(what, match);
    return (
      found.find((s) => s.parentSpanId === parent.spanId) ??
      this.fail(`${what} is not a direct child of ${label(parent)}: parents ${found.map((s) => s.parentSpanId).join(', ')}`)
    );
  }

  /** The one span matching that lies under `ancestor` (within one process). */
  under(what: string, ancestor: SpanRecord, match: (s: SpanRecord) => boolean): SpanRecord {
    const found = this.find(what, match);
    return found.find((s) => this.isDescendant(s, ancestor)) ?? this.fail(`${what} is not under ${label(ancestor)}`);
  }
}

function label(s: SpanRecord): string {
  return `${s.service}:${s.name} (${s.spanId})`;
}

const rpc = (service: string, kind: number, method: string) => (s: SpanRecord) =>
  s.service === service && s.kind === kind && s.name.endsWith(method);
const sql = (service: string) => (s: SpanRecord) => s.service === service && s.attributes['db.system.name'] === 'postgresql';

export interface TransferChainExpectation {
  /** Span id of the caller's traceparent: the gateway's server span must be its child. */
  parentSpanId: string;
  transferId: string;
}

/**
 * Asserts the whole path of one POSTED transfer is a single connected trace, hop by hop:
 *
 *   gateway HTTP server (child of the caller's traceparent)
 *    └ gateway gRPC client CreateTransfer
 *       └ transactions gRPC server CreateTransfer (tessera.transfer.id)   [process boundary: direct child]
 *          ├ transactions Postgres queries
 *          ├ transactions gRPC client Screen
 *          │  └ compliance gRPC server Screen                             [direct child]
 *          │     └ compliance "screening decision" (decision, rule codes, no PII)
 *          └ transactions Kafka PRODUCER (outbox relay; parent = the traceparent stored with the outbox row)
 *             └ compliance Kafka CONSUMER "process <topic>"               [direct child via the traceparent header]
 *                └ compliance Postgres write of the observed transfer
 *
 * The relay runs later in a background loop, yet its PRODUCER span continues the request's trace because the
 * outbox row stores the request's traceparent (libs/kafka publishEnvelopes); the consumer's parent is that
 * PRODUCER span through the message's `traceparent` header. Both the kafkajs instrumentation and
 * libs/kafka's EventConsumer create a CONSUMER span from that header; either must be a child of the producer.
 */
export function assertTransferChain(spans: SpanRecord[], expected: TransferChainExpectation): TraceView {
  const t = new TraceView(spans);
  // TESSERA_E2E_PRINT_TRACE=1 shows the tree of a passing run too (for docs and workshops).
  if (process.env['TESSERA_E2E_PRINT_TRACE']) process.stdout.write(`${formatTree(spans)}\n`);
  const httpServer = t.one(
    'gateway HTTP server span (child of the caller)',
    (s) => s.service === 'gateway' && s.kind === SpanKind.SERVER && s.parentSpanId === expected.parentSpanId,
  );
  if (httpServer.attributes['http.route'] !== undefined && !String(httpServer.attributes['http.route']).includes('/transfers')) {
    t.fail(`gateway server span has http.route ${String(httpServer.attributes['http.route'])}`);
  }
  const gwClient = t.under(
    'gateway gRPC client CreateTransfer',
    httpServer,
    rpc('gateway', SpanKind.CLIENT, 'TransferService/CreateTransfer'),
  );
  const txServer = t.childOf(
    'transactions gRPC server CreateTransfer',
    gwClient,
    rpc('transactions', SpanKind.SERVER, 'TransferService/CreateTransfer'),
  );
  if (txServer.attributes['tessera.transfer.id'] !== expected.transferId) {
    t.fail(
      `CreateTransfer server span has tessera.transfer.id=${String(txServer.attributes['tessera.transfer.id'])}, expected ${expected.transferId}`,
    );
  }
  t.under('transactions Postgres query', txServer, sql('transactions'));
  const screenClient = t.under(
    'transactions gRPC client Screen',
    txServer,
    rpc('transactions', SpanKind.CLIENT, 'ComplianceService/Screen'),
  );
  const screenServer = t.childOf(
    'compliance gRPC server Screen',
    screenClient,
    rpc('compliance', SpanKind.SERVER, 'ComplianceService/Screen'),
  );
  const decision = t.under(
    'compliance screening decision span',
    screenServer,
    (s) => s.service === 'compliance' && s.name === 'screening decision',
  );
  if (
    decision.attributes['tessera.screening.decision'] !== 'APPROVE' ||
    decision.attributes['tessera.transfer.id'] !== expected.transferId
  ) {
    t.fail(`screening decision attributes: ${JSON.stringify(decision.attributes)}`);
  }
  const producer = t.under(
    'transactions Kafka PRODUCER (outbox relay)',
    txServer,
    (s) => s.service === 'transactions' && s.kind === SpanKind.PRODUCER,
  );
  const consumers = t.find('compliance Kafka CONSUMER', (s) => s.service === 'compliance' && s.kind === SpanKind.CONSUMER);
  const consumer =
    consumers.find((s) => s.parentSpanId === producer.spanId) ?? t.fail(`no compliance CONSUMER span is a child of ${label(producer)}`);
  if (consumer.attributes['messaging.destination.name'] !== producer.attributes['messaging.destination.name']) {
    t.fail(
      `consumer topic ${String(consumer.attributes['messaging.destination.name'])} differs from producer topic ${String(producer.attributes['messaging.destination.name'])}`,
    );
  }
  const consumerRoot = consumers.filter((s) => t.isDescendant(s, producer));
  const write = t
    .find('compliance Postgres write under the consumer', sql('compliance'))
    .find((s) => consumerRoot.some((c) => t.isDescendant(s, c)));
  if (!write) t.fail('no compliance Postgres span under a CONSUMER span of this trace');
  // One trace, one root: every span hangs off another span of this trace except the gateway's server span.
  const ids = new Set(spans.map((s) => s.spanId));
  const roots = spans.filter((s) => !s.parentSpanId || !ids.has(s.parentSpanId));
  if (roots.length !== 1 || roots[0] !== httpServer)
    t.fail(`expected one root (the gateway server span), got ${roots.map(label).join(', ')}`);
  return t;
}
