import type { GeneratedEvent } from './generate';
import { runLoad } from './runner';
import type { EventSink, SendResult, SinkListener } from './sink';

/** Records batches; rejects malformed events as ingest would; optionally signals back-pressure once. */
class RecordingSink implements EventSink {
  readonly name = 'recording';
  readonly batches: { tenant: string; events: GeneratedEvent[] }[] = [];
  inFlight = 0;
  maxInFlight = 0;

  constructor(private readonly options: { delayMs?: number; busyFirst?: boolean } = {}) {}

  async send(tenant: string, events: GeneratedEvent[], listener?: SinkListener): Promise<SendResult> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.options.busyFirst && this.batches.length === 0) {
        this.options.busyFirst = false;
        listener?.onRetry?.('503', 100);
        await new Promise((r) => setTimeout(r, 100));
      }
      await new Promise((r) => setTimeout(r, this.options.delayMs ?? 1));
      this.batches.push({ tenant, events });
      const rejections = events.flatMap((e, index) =>
        e.kind === 'malformed' ? [{ index, eventId: e.event.eventId, code: 'INGEST.X', reason: 'bad' }] : [],
      );
      return { accepted: events.length - rejections.length, rejections };
    } finally {
      this.inFlight--;
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

describe('runLoad', () => {
  it('sends rate x duration events in per-tenant batches and tallies the answers', async () => {
    const sink = new RecordingSink({ busyFirst: true });
    const stats = await runLoad({ sink, rate: 400, durationMs: 1000, tenants: 3, seed: 4, malformed: 0.05, batchSize: 50, maxInFlight: 2 });
    const events = sink.batches.flatMap((b) => b.events);
    expect(events).toHaveLength(400);
    expect(stats.sent).toBe(400);
    expect(stats.accepted + stats.rejected).toBe(400);
    expect(stats.rejected).toBe(events.filter((e) => e.kind === 'malformed').length);
    expect(stats.rejectedByCode['INGEST.X']).toBe(stats.rejected);
    expect(stats.retries).toBe(1);
    for (const b of sink.batches) {
      expect(b.events.length).toBeLessThanOrEqual(50);
      expect(b.events.every((e) => e.tenant === b.tenant)).toBe(true);
    }
    expect(sink.maxInFlight).toBeLessThanOrEqual(2);
  });

  it('sends the same events for the same seed and start time', async () => {
    const run = async () => {
      const sink = new RecordingSink();
      await runLoad({ sink, rate: 500, durationMs: 400, tenants: 2, seed: 99, startTime: 1_900_000_000_000, late: 0.1, duplicates: 0.1 });
      return sink.batches.flatMap((b) => b.events).sort((a, b) => (a.event.eventId + a.kind).localeCompare(b.event.eventId + b.kind));
    };
    expect(await run()).toEqual(await run());
  });

  it('slows down instead of buffering when the sink is slow', async () => {
    const sink = new RecordingSink({ delayMs: 300 });
    const stats = await runLoad({ sink, rate: 5000, durationMs: 100, batchSize: 50, maxInFlight: 1 });
    expect(stats.sent).toBe(500);
    expect(sink.maxInFlight).toBe(1);
    // 10 batches one at a time at >= 300 ms each cannot finish in the nominal 100 ms
    expect(stats.elapsedMs).toBeGreaterThan(2500);
  }, 60_000);

  it('stops with the sink error rather than losing events silently', async () => {
    const failing: EventSink = { name: 'failing', send: () => Promise.reject(new Error('boom')), close: () => Promise.resolve() };
    await expect(runLoad({ sink: failing, rate: 100, durationMs: 200 })).rejects.toThrow('boom');
  });
});
