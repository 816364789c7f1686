import {
  type Attributes,
  type Context,
  createTraceState,
  isSpanContextValid,
  type Link,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
} from '@opentelemetry/api';
import { core, tracing } from '@opentelemetry/sdk-node';

/**
 * The platform's default trace policy, `OTEL_TRACES_SAMPLER=tessera_tail`: keep every error and every slow
 * request, and only a sample of the fast, successful ones.
 *
 * Why: with every trace exported, the local Zipkin spent ~1.0 ms of CPU per single transfer ingesting spans (of
 * ~15 ms across all processes), and load pushed the demo's transfer traces out of its 25k-span store. Creating and
 * recording the spans costs the services little: gateway and transactions used the same CPU per transfer with
 * `always_off` (A/B on the 2-core machine, 2026-12-03). No OpenTelemetry JS package does tail sampling (the
 * Collector's `tail_sampling` processor does, but it needs a collector that sees every span of a trace), so this is
 * two small pieces on the SDK's own interfaces:
 *
 * - **{@link TailKeepSampler}, at the head.** Every span is recorded (sampled flag set, so ids and the decision
 *   propagate). Where a trace enters the platform (no parent, or a remote parent without a mark) it decides whether
 *   the trace is *kept whatever happens*: its trace id falls in the keep ratio (deterministic, so every process
 *   agrees), or, for a request (a SERVER span with no parent or a caller's unmarked trace), a token is left in the
 *   per-process reservoir (`perSecond`: the first few requests each second, which keeps a demo's or a trainer's every
 *   request; background roots such as pollers and batch consumers are kept by ratio only). The decision travels in the W3C `tracestate`
 *   as `tessera=k` (kept) or `tessera=t` (tail: decided by what happens), over HTTP, gRPC and Kafka headers alike,
 *   outbox envelopes included; a span under a marked parent inherits it. A caller's explicit "not sampled" is
 *   honoured (parent-based).
 * - **{@link TailSamplingSpanProcessor}, at the end.** Spans marked `k` (or unmarked, from other samplers) go
 *   straight to the exporters. Spans marked `t` wait, per trace, until every span this process started in the trace
 *   has ended; then they are exported if any of them failed (status ERROR) or lasted at least `slowMs`, and dropped
 *   otherwise. Once a trace has an error or a slow span, its buffered and later spans are exported at once.
 *
 * The decision is per process. A trace that errs or is slow in one service is kept whole wherever the failure or the
 * wait is visible: a failing downstream call is an error and a slow one a slow span in its caller too, so the usual
 * failed or slow request keeps its gateway, service and database spans. A downstream service that was itself fast
 * and successful drops its part of a trace that was slow only upstream: the trace shows the caller's side.
 */
export const TRACE_STATE_KEY = 'tessera';
const KEEP = 'k';
const TAIL = 't';

export interface TailPolicy {
  /** Traces kept whatever happens, by trace id (0..1). */
  readonly ratio: number;
  /** New requests (SERVER root spans) kept whatever happens, per second per process (a bucket one second deep). */
  readonly perSecond: number;
  /** A span at least this long keeps its trace. */
  readonly slowMs: number;
  /** Undecided spans held at most (oldest traces decided, i.e. dropped unless marked, beyond it). */
  readonly maxBufferedSpans: number;
  /** A trace whose spans have not all ended after this long is decided anyway. */
  readonly maxWaitMs: number;
}

export const DEFAULT_TAIL_POLICY: TailPolicy = { ratio: 0.01, perSecond: 10, slowMs: 500, maxBufferedSpans: 20_000, maxWaitMs: 30_000 };

/** Whether `traceId` falls in the first `ratio` of the id space (its last 8 hex digits: random in W3C ids). */
export function traceIdInRatio(traceId: string, ratio: number): boolean {
  if (ratio >= 1) return true;
  if (ratio <= 0) return false;
  return Number.parseInt(traceId.slice(-8), 16) < ratio * 0x1_0000_0000;
}

/** Head half of the policy: records everything and marks each new trace `k` (kept) or `t` (decided at the tail). */
export class TailKeepSampler implements tracing.Sampler {
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly policy: Pick<TailPolicy, 'ratio' | 'perSecond'>,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = policy.perSecond;
    this.refilledAt = now();
  }

  shouldSample(
    context: Context,
    traceId: string,
    _name: string,
    kind: SpanKind,
    _attributes: Attributes,
    _links: Link[],
  ): tracing.SamplingResult {
    const parent = trace.getSpanContext(context);
    const hasParent = parent !== undefined && isSpanContextValid(parent);
    if (hasParent && (parent.traceFlags & TraceFlags.SAMPLED) === 0) return { decision: tracing.SamplingDecision.NOT_RECORD };
    const mark = hasParent ? parent.traceState?.get(TRACE_STATE_KEY) : undefined;
    if (mark === KEEP || mark === TAIL) return { decision: tracing.SamplingDecision.RECORD_AND_SAMPLED };
    // Entering the platform: no parent, or a caller outside it (every Tessera service marks its traces, so a parent
    // without a mark is a client's own trace, e.g. the console's traceparent). The reservoir is for requests (SERVER
    // spans): background roots (pollers, relays, batch consumers) would spend it many times a second, and a consumer
    // under a foreign producer's trace (the Go processor's) is kept by ratio only, as every process agrees on that.
    const keep = traceIdInRatio(traceId, this.policy.ratio) || (kind === SpanKind.SERVER && this.takeToken());
    const state = (hasParent ? parent.traceState : undefined) ?? createTraceState();
    return { decision: tracing.SamplingDecision.RECORD_AND_SAMPLED, traceState: state.set(TRACE_STATE_KEY, keep ? KEEP : TAIL) };
  }

  toString(): string {
    return `TailKeepSampler{ratio=${this.policy.ratio}, perSecond=${this.policy.perSecond}}`;
  }

  private takeToken(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.policy.perSecond, this.tokens + ((now - this.refilledAt) / 1000) * this.policy.perSecond);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

interface PendingTrace {
  /** Spans of the trace this process started and has not seen end. */
  open: number;
  /** Ended spans waiting for the decision. */
  spans: tracing.ReadableSpan[];
  /** An error or slow span was seen: export everything. */
  keep: boolean;
  firstSeen: number;
}

/** Tail half of the policy: holds `t`-marked spans per trace until the trace's local spans have all ended. */
export class TailSamplingSpanProcessor implements tracing.SpanProcessor {
  private readonly pending = new Map<string, PendingTrace>();
  private buffered = 0;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly exporters: readonly tracing.SpanProcessor[],
    private readonly policy: Pick<TailPolicy, 'slowMs' | 'maxBufferedSpans' | 'maxWaitMs'>,
    private readonly now: () => number = Date.now,
  ) {
    this.sweeper = setInterval(() => this.sweep(), Math.max(100, policy.maxWaitMs / 2)).unref();
  }

  onStart(span: tracing.Span, parentContext: Context): void {
    for (const p of this.exporters) p.onStart(span, parentContext);
    const context = span.spanContext();
    if (context.traceState?.get(TRACE_STATE_KEY) !== TAIL) return;
    const pending = this.pending.get(context.traceId);
    if (pending) pending.open += 1;
    else this.pending.set(context.traceId, { open: 1, spans: [], keep: false, firstSeen: this.now() });
  }

  onEnd(span: tracing.ReadableSpan): void {
    const context = span.spanContext();
    if (context.traceState?.get(TRACE_STATE_KEY) !== TAIL) return this.export(span);
    const pending = this.pending.get(context.traceId);
    if (!pending) {
      // Its trace was decided already (swept or evicted): the span is judged alone.
      if (this.interesting(span)) this.export(span);
      return;
    }
    pending.open -= 1;
    if (!pending.keep && this.interesting(span)) {
      pending.keep = true;
      this.buffered -= pending.spans.length;
      for (const held of pending.spans.splice(0)) this.export(held);
    }
    if (pending.keep) this.export(span);
    else {
      pending.spans.push(span);
      this.buffered += 1;
    }
    if (pending.open <= 0) this.settle(context.traceId, pending);
    else if (this.buffered > this.policy.maxBufferedSpans) this.evictOldest();
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.exporters.map((p) => p.forceFlush()));
  }

  async shutdown(): Promise<void> {
    clearInterval(this.sweeper);
    this.pending.clear();
    this.buffered = 0;
    await Promise.all(this.exporters.map((p) => p.shutdown()));
  }

  /** Undecided spans held right now (for tests and diagnostics). */
  get heldSpans(): number {
    return this.buffered;
  }

  private interesting(span: tracing.ReadableSpan): boolean {
    return span.status.code === SpanStatusCode.ERROR || core.hrTimeToMilliseconds(span.duration) >= this.policy.slowMs;
  }

  private export(span: tracing.ReadableSpan): void {
    for (const p of this.exporters) p.onEnd(span);
  }

  /** The trace's local spans are all done (or it waited too long): nothing interesting happened, drop what is held. */
  private settle(traceId: string, pending: PendingTrace): void {
    this.pending.delete(traceId);
    this.buffered -= pending.spans.length;
    pending.spans.length = 0;
  }

  private sweep(): void {
    const cutoff = this.now() - this.policy.maxWaitMs;
    for (const [traceId, pending] of this.pending) {
      if (pending.firstSeen > cutoff) break; // insertion order is age order
      this.settle(traceId, pending);
    }
  }

  private evictOldest(): void {
    for (const [traceId, pending] of this.pending) {
      this.settle(traceId, pending);
      if (this.buffered <= this.policy.maxBufferedSpans) return;
    }
  }
}
