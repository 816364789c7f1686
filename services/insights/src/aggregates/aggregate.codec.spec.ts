import { analyticsV1 } from '@tessera/contracts';
import { sampleAggregate } from '../../test/support/aggregate.fixture';
import { aggregateFromProto, aggregateToProto } from './aggregate.codec';

describe('aggregate codec', () => {
  it('round-trips every field through the wire format, trace id included', () => {
    const a = sampleAggregate();
    const wire = analyticsV1.WindowAggregate.decode(analyticsV1.WindowAggregate.encode(aggregateToProto(a)).finish());
    expect(wire.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(wire.maxEventTime).toEqual(new Date('2026-01-01T00:00:08.250Z'));
    expect(aggregateFromProto(wire)).toEqual(a);
  });

  it('leaves max_event_time absent when the producer did not send it', () => {
    const { maxEventTime: _unset, ...a } = sampleAggregate();
    const wire = analyticsV1.WindowAggregate.decode(analyticsV1.WindowAggregate.encode(aggregateToProto(a)).finish());
    expect(wire.maxEventTime).toBeUndefined();
    expect(aggregateFromProto(wire)).not.toHaveProperty('maxEventTime');
  });
});
