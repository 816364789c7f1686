import { sampleAggregate } from '../../test/support/aggregate.fixture';
import { AggregateFeed } from './aggregate-feed';

describe('AggregateFeed', () => {
  describe('publish', () => {
    it('delivers only to subscribers whose tenant, stream and metric match', () => {
      const feed = new AggregateFeed(10);
      const all = feed.subscribe({ tenantId: 'acme' });
      const views = feed.subscribe({ tenantId: 'acme', metric: 'page.view' });
      const other = feed.subscribe({ tenantId: 'globex' });
      feed.publish(sampleAggregate());
      feed.publish(sampleAggregate({ metric: 'click', windowKey: 'acme|web|click|=|10|10|0' }));
      expect([all.pending, views.pending, other.pending]).toEqual([2, 1, 0]);
    });

    it('drops the oldest update when a subscriber is full, and counts it', () => {
      const feed = new AggregateFeed(2);
      const s = feed.subscribe({ tenantId: 'acme' });
      for (const revision of [1n, 2n, 3n, 4n]) feed.publish(sampleAggregate({ revision }));
      expect(s.dropped).toBe(2);
      expect([s.take()?.revision, s.take()?.revision, s.take()]).toEqual([3n, 4n, undefined]);
    });

    it('notifies the reader after each offer', () => {
      const feed = new AggregateFeed(5);
      const s = feed.subscribe({ tenantId: 'acme' });
      const seen: bigint[] = [];
      s.onAvailable(() => seen.push(s.take()?.revision ?? -1n));
      feed.publish(sampleAggregate({ revision: 7n }));
      expect(seen).toEqual([7n]);
    });
  });

  describe('close', () => {
    it('unsubscribes and discards pending updates', () => {
      const feed = new AggregateFeed(5);
      const s = feed.subscribe({ tenantId: 'acme' });
      feed.publish(sampleAggregate());
      s.close();
      feed.publish(sampleAggregate());
      expect(feed.subscriberCount).toBe(0);
      expect(s.take()).toBeUndefined();
    });
  });
});
