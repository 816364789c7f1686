import { AsyncLocalStorage } from 'node:async_hooks';
import { context, type Span, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { Coalescer } from './coalescer';

/** A run function whose calls the test ends by hand, recording the batches it was given. */
function gatedRun() {
  const calls: { items: number[]; finish: (results?: Array<string | Error>) => void }[] = [];
  const run = (items: readonly number[]) =>
    new Promise<ReadonlyArray<string | Error>>((resolve) => {
      calls.push({ items: [...items], finish: (results) => resolve(results ?? items.map((i) => `r${i}`)) });
    });
  return { calls, run };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('Coalescer', () => {
  describe('submit', () => {
    it('sends an item at once when a slot is free, and items arriving together in one call', async () => {
      const { calls, run } = gatedRun();
      const c = new Coalescer<number, string>({ maxBatch: 10, maxInFlight: 1, run });
      const a = c.submit(1);
      const b = c.submit(2);
      await settle();
      expect(calls.map((x) => x.items)).toEqual([[1, 2]]);
      calls[0]?.finish();
      await expect(Promise.all([a, b])).resolves.toEqual(['r1', 'r2']);
    });

    it('queues items while every slot is busy and sends them together when one frees', async () => {
      const { calls, run } = gatedRun();
      const c = new Coalescer<number, string>({ maxBatch: 10, maxInFlight: 1, run });
      const first = c.submit(1);
      await settle();
      const later = [2, 3, 4].map((i) => c.submit(i));
      await settle();
      expect(calls.map((x) => x.items)).toEqual([[1]]);
      expect(c.load).toEqual({ inFlight: 1, waitingBatches: 1 });
      calls[0]?.finish();
      await expect(first).resolves.toBe('r1');
      await settle();
      expect(calls.map((x) => x.items)).toEqual([[1], [2, 3, 4]]);
      calls[1]?.finish();
      await expect(Promise.all(later)).resolves.toEqual(['r2', 'r3', 'r4']);
      expect(c.load).toEqual({ inFlight: 0, waitingBatches: 0 });
    });

    it('runs up to maxInFlight calls at once and caps each at maxBatch items', async () => {
      const { calls, run } = gatedRun();
      const c = new Coalescer<number, string>({ maxBatch: 2, maxInFlight: 2, run });
      const all = [1, 2, 3, 4, 5].map((i) => c.submit(i));
      await settle();
      expect(calls.map((x) => x.items)).toEqual([
        [1, 2],
        [3, 4],
      ]);
      calls[0]?.finish();
      await settle();
      await settle();
      expect(calls.map((x) => x.items)).toEqual([[1, 2], [3, 4], [5]]);
      calls[1]?.finish();
      calls[2]?.finish();
      await expect(Promise.all(all)).resolves.toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
    });

    it('fails only the items whose result is an Error, and every item of a call that throws', async () => {
      const { calls, run } = gatedRun();
      const c = new Coalescer<number, string>({ maxBatch: 10, maxInFlight: 1, run });
      const [a, b] = [c.submit(1), c.submit(2)];
      await settle();
      calls[0]?.finish(['r1', new Error('item 2 refused')]);
      await expect(a).resolves.toBe('r1');
      await expect(b).rejects.toThrow('item 2 refused');

      const thrower = new Coalescer<number, string>({ maxBatch: 10, maxInFlight: 1, run: () => Promise.reject(new Error('call failed')) });
      const both = [thrower.submit(1), thrower.submit(2)];
      for (const p of both) await expect(p).rejects.toThrow('call failed');
      // The slot is released after a failed call: the next item still goes out.
      const ok = new Coalescer<number, string>({
        maxBatch: 10,
        maxInFlight: 1,
        run: async (items) => {
          if (items[0] === 1) throw new Error('x');
          return items.map(String);
        },
      });
      await expect(ok.submit(1)).rejects.toThrow('x');
      await expect(ok.submit(2)).resolves.toBe('2');
    });

    it('refuses a run that returns the wrong number of results', async () => {
      const c = new Coalescer<number, string>({ maxBatch: 10, maxInFlight: 1, run: async () => ['only one'] });
      const both = [c.submit(1), c.submit(2)];
      for (const p of both) await expect(p).rejects.toThrow('run returned 1 results for 2 items');
    });

    it("runs a call in its first item's async context, even when a queued batch is started by another call's end", async () => {
      const als = new AsyncLocalStorage<string>();
      const seen: Array<string | undefined> = [];
      const { calls, run } = gatedRun();
      const c = new Coalescer<number, string>({
        maxBatch: 10,
        maxInFlight: 1,
        run: (items) => {
          seen.push(als.getStore());
          return run(items);
        },
      });
      const first = als.run('request-a', () => c.submit(1));
      await settle();
      const second = als.run('request-b', () => c.submit(2));
      await settle();
      calls[0]?.finish();
      await first;
      await settle();
      calls[1]?.finish();
      await second;
      expect(seen).toEqual(['request-a', 'request-b']);
    });
  });

  describe('tracing', () => {
    beforeAll(() => context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable()));
    afterAll(() => context.disable());

    /** A span that records what the coalescer does to it. */
    const recorded = (hex: string) => {
      const links: unknown[] = [];
      const attributes: Record<string, unknown> = {};
      const ctx = { traceId: hex.repeat(32), spanId: hex.repeat(16), traceFlags: 1 };
      const span = {
        spanContext: () => ctx,
        addLink: (l: unknown) => (links.push(l), span),
        setAttribute: (k: string, v: unknown) => ((attributes[k] = v), span),
      };
      return { span: span as unknown as Span, links, attributes, ctx };
    };

    it("links every other item's span to the span the shared call ran under", async () => {
      const [a, b, c] = [recorded('a'), recorded('b'), recorded('c')];
      const seen: Array<string | undefined> = [];
      const coalescer = new Coalescer<number, number>({
        maxBatch: 10,
        maxInFlight: 1,
        run: async (items) => (seen.push(trace.getActiveSpan()?.spanContext().traceId), items.map((i) => i)),
      });
      const under = (s: Span, i: number) => context.with(trace.setSpan(context.active(), s), () => coalescer.submit(i));
      await Promise.all([under(a.span, 1), under(b.span, 2), under(c.span, 3)]);
      expect(seen).toEqual([a.ctx.traceId]);
      expect(a.attributes['tessera.coalesced.items']).toBe(3);
      expect(a.links).toEqual([]);
      for (const other of [b, c])
        expect(other.links).toEqual([{ context: a.ctx, attributes: { 'tessera.coalesced.into': a.ctx.traceId } }]);
    });

    it('links nothing when told its run links items itself', async () => {
      const [a, b] = [recorded('a'), recorded('b')];
      const coalescer = new Coalescer<number, number>({
        maxBatch: 10,
        maxInFlight: 1,
        linkTraces: false,
        run: async (items) => items.map((i) => i),
      });
      const under = (s: Span, i: number) => context.with(trace.setSpan(context.active(), s), () => coalescer.submit(i));
      await Promise.all([under(a.span, 1), under(b.span, 2)]);
      expect(b.links).toEqual([]);
    });
  });

  it('refuses a non-positive limit', () => {
    expect(() => new Coalescer({ maxBatch: 0, maxInFlight: 1, run: async () => [] })).toThrow('maxBatch must be a positive integer, got 0');
    expect(() => new Coalescer({ maxBatch: 1, maxInFlight: 1.5, run: async () => [] })).toThrow(
      'maxInFlight must be a positive integer, got 1.5',
    );
  });
});
