import { metrics } from '@opentelemetry/api';
import type { Aggregate } from '../aggregates/aggregate';

const meter = metrics.getMeter('tessera.insights.live');
const droppedCounter = meter.createCounter('tessera.insights.stream.dropped', {
  description: 'Aggregate updates dropped for a StreamAggregates subscriber that read too slowly',
  unit: '{update}',
});

/** What a StreamAggregates caller follows; empty stream/metric mean all. */
export interface FeedFilter {
  tenantId: string;
  streamId?: string;
  metric?: string;
}

export function matches(filter: FeedFilter, a: Aggregate): boolean {
  return (
    a.tenantId === filter.tenantId && (!filter.streamId || a.streamId === filter.streamId) && (!filter.metric || a.metric === filter.metric)
  );
}

/**
 * One subscriber's bounded queue. A live chart wants the freshest windows, so when the reader falls behind
 * the OLDEST pending update is dropped (and counted) rather than blocking the consumer or growing without bound.
 */
export class FeedSubscription {
  private readonly queue: Aggregate[] = [];
  private droppedCount = 0;
  private listener: (() => void) | undefined;
  private open = true;

  constructor(
    readonly filter: FeedFilter,
    readonly capacity: number,
    private readonly onClose: (s: FeedSubscription) => void,
  ) {}

  /** Updates dropped so far because the queue was full. */
  get dropped(): number {
    return this.droppedCount;
  }

  get pending(): number {
    return this.queue.length;
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** Called (synchronously) after each offered update; the reader then drains with {@link take}. */
  onAvailable(listener: () => void): void {
    this.listener = listener;
  }

  offer(a: Aggregate): void {
    if (!this.open) return;
    this.queue.push(a);
    if (this.queue.length > this.capacity) {
      this.queue.shift();
      this.droppedCount++;
      droppedCounter.add(1, { tenant_id: this.filter.tenantId });
    }
    this.listener?.();
  }

  take(): Aggregate | undefined {
    return this.queue.shift();
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    this.queue.length = 0;
    this.listener = undefined;
    this.onClose(this);
  }
}

/** In-process fan-out of upserted aggregates to the StreamAggregates calls of this instance. */
export class AggregateFeed {
  private readonly subscriptions = new Set<FeedSubscription>();

  constructor(private readonly defaultCapacity: number) {}

  subscribe(filter: FeedFilter, capacity = this.defaultCapacity): FeedSubscription {
    const s = new FeedSubscription(filter, capacity, (closed) => this.subscriptions.delete(closed));
    this.subscriptions.add(s);
    return s;
  }

  /** Hands `a` to every matching subscriber; never blocks and never throws into the consumer. */
  publish(a: Aggregate): void {
    for (const s of this.subscriptions) {
      if (matches(s.filter, a)) s.offer(a);
    }
  }

  get subscriberCount(): number {
    return this.subscriptions.size;
  }

  closeAll(): void {
    for (const s of [...this.subscriptions]) s.close();
  }
}
