import { analyticsV1 } from '@tessera/contracts';
import { sampleAggregate } from '../../test/support/aggregate.fixture';
import { aggregateFromProto, aggregateToProto } from './aggregate.codec';

describe('aggregate codec', () => {
  it('round-trips every field through the wire format, trace id included', () => {
    const a = sampleAggregate();
    const wire = analyticsV1.WindowAggregate.decode(analyticsV1.WindowAggregate.encode(aggregateToProto(a)).finish());
    expect(wire.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(aggregateFromProto(wire)).toEqual(a);
  });
});
