import { AsyncLocalStorage } from 'node:async_hooks';
import { type Attributes, type Context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import DataLoader from 'dataloader';

export interface CoalescerOptions<I, O> {
  /** Most items in one call. */
  maxBatch: number;
  /** Calls running at once; items submitted while all are busy wait, and go together in the next free one. */
  maxInFlight: number;
  /**
   * One call for `items` (in submission order): a result or an Error per item, in the same order. Throwing fails
   * every item of the call with that error. Runs in the async context (trace, logger bindings) of its first item.
   */
  run(items: readonly I[]): Promise<ReadonlyArray<O | Error>>;
  /**
   * Links each item's active span to the span its call ran under (the first item's): a trace whose work was done in
   * another item's call says where, with `tessera.coalesced.into` on the link. On by default; off for a `run` that
   * splits its items into calls of its own (it links them itself).
   */
  linkTraces?: boolean;
}

/**
 * Natural ("smart") batching of concurrent calls: an item submitted while a call slot is free goes out at once
 * (after the current I/O phase, so requests that arrived together still share a call), and items submitted while
 * every slot is busy queue up and go together when one frees. No timer: an idle service adds no latency, and a busy
 * one makes its batches as big as its load, so a per-call cost (a round trip, a transaction, a commit) is paid once
 * per batch instead of once per item (issue #10: 16 concurrent transfers became 16 Screen calls and 16 transactions).
 *
 * Built on DataLoader (the batching library GraphQL servers use, no dependencies) with its cache off and its
 * scheduler replaced by the in-flight limit: DataLoader collects the items and maps the results back to each caller.
 */
export class Coalescer<I, O> {
  private readonly loader: DataLoader<Submitted<I>, O, Submitted<I>>;
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly options: CoalescerOptions<I, O>) {
    for (const [name, v] of [
      ['maxBatch', options.maxBatch],
      ['maxInFlight', options.maxInFlight],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`Coalescer: ${name} must be a positive integer, got ${v}`);
    }
    this.loader = new DataLoader<Submitted<I>, O, Submitted<I>>((batch) => this.dispatch(batch), {
      cache: false,
      maxBatchSize: options.maxBatch,
      batchScheduleFn: (dispatch) => this.schedule(dispatch),
    });
  }

  /** The item's result, from whichever call carried it. */
  submit(item: I): Promise<O> {
    return this.loader.load({ item, inContext: AsyncLocalStorage.snapshot(), span: trace.getActiveSpan() });
  }

  /** Calls running and batches waiting for a slot (for metrics and tests). */
  get load(): { inFlight: number; waitingBatches: number } {
    return { inFlight: this.inFlight, waitingBatches: this.waiting.length };
  }

  private schedule(dispatch: () => void): void {
    if (this.inFlight < this.options.maxInFlight) {
      this.inFlight++;
      setImmediate(dispatch);
    } else {
      this.waiting.push(dispatch);
    }
  }

  private async dispatch(batch: readonly Submitted<I>[]): Promise<ReadonlyArray<O | Error>> {
    try {
      const [first] = batch;
      if (!first) return [];
      const results = await first.inContext(() => {
        if (this.options.linkTraces !== false) linkToActiveSpan(batch.slice(1).map((b) => b.span));
        return this.options.run(batch.map((b) => b.item));
      });
      if (results.length !== batch.length) throw new Error(`Coalescer: run returned ${results.length} results for ${batch.length} items`);
      return results;
    } finally {
      const next = this.waiting.shift();
      if (next)
        setImmediate(next); // the slot passes straight to the next waiting batch
      else this.inFlight--;
    }
  }
}

interface Submitted<I> {
  item: I;
  inContext: <R>(fn: () => R) => R;
  span: Span | undefined;
}

/** Attribute names of coalesced work: the trace the shared work ran in, and how many items it carried. */
const COALESCED_INTO = 'tessera.coalesced.into';
const COALESCED_ITEMS = 'tessera.coalesced.items';

/**
 * Links `spans` (other items' spans, still open while they wait) to the active span, the one their shared work runs
 * under, and counts them on it. No-op without tracing.
 */
export function linkToActiveSpan(spans: ReadonlyArray<Span | undefined>): void {
  const carrier = trace.getActiveSpan();
  if (!carrier || spans.length === 0) return;
  const target = carrier.spanContext();
  carrier.setAttribute(COALESCED_ITEMS, spans.length + 1);
  for (const span of spans)
    if (span && span !== carrier) span.addLink({ context: target, attributes: { [COALESCED_INTO]: target.traceId } });
}

const tracer = trace.getTracer('@tessera/db');

/**
 * Runs `fn`, one operation done for several traced items, under the active span (the first item's), and gives each
 * other item's trace (`others`, their contexts) a span `name` for it as well: same start and end, `attributes`, an
 * error status when `fn` threw, `tessera.coalesced.into` = the trace the operation ran in and a link to the span it ran
 * under. So every item's trace still shows the work done for it, while the operation itself (and the spans of its
 * client, e.g. the database's) runs once, in the first item's trace. Items in the active trace, or untraced, get none.
 */
export async function traceSharedWork<R>(
  others: ReadonlyArray<Context | undefined>,
  name: string,
  attributes: Attributes,
  fn: () => Promise<R>,
): Promise<R> {
  const carrier = trace.getActiveSpan()?.spanContext();
  const startTime = new Date();
  let failure: unknown;
  try {
    return await fn();
  } catch (error) {
    failure = error ?? new Error('shared work failed');
    throw error;
  } finally {
    const endTime = new Date();
    for (const ctx of others) {
      const parent = ctx && trace.getSpanContext(ctx);
      if (!ctx || !parent || parent.traceId === carrier?.traceId) continue;
      const span = tracer.startSpan(
        name,
        {
          kind: SpanKind.CLIENT,
          startTime,
          attributes: { ...attributes, [COALESCED_ITEMS]: others.length + 1, ...(carrier ? { [COALESCED_INTO]: carrier.traceId } : {}) },
          links: carrier ? [{ context: carrier }] : [],
        },
        ctx,
      );
      if (failure !== undefined)
        span.setStatus({ code: SpanStatusCode.ERROR, message: failure instanceof Error ? failure.message : String(failure) });
      span.end(endTime);
    }
  }
}
