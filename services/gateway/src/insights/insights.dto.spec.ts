import { analyticsV1 } from '@tessera/contracts';
import { toAggregateView } from './insights.dto';

describe('toAggregateView', () => {
  it("exposes the emitting step's trace id, null when untraced", () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    expect(toAggregateView(analyticsV1.WindowAggregate.fromPartial({ windowKey: 'k', count: 2n, traceId }))).toMatchObject({
      windowKey: 'k',
      count: 2,
      traceId,
    });
    expect(toAggregateView(analyticsV1.WindowAggregate.fromPartial({ windowKey: 'k' })).traceId).toBeNull();
  });
});
