import { sampleAggregate } from '../../test/support/aggregate.fixture';
import { InvalidAggregateError, validateAggregate } from './aggregate';

describe('validateAggregate', () => {
  it('accepts a well-formed aggregate', () => {
    expect(validateAggregate(sampleAggregate())).toEqual(sampleAggregate());
  });

  it('refuses a key that names another tenant, so it cannot overwrite their window', () => {
    expect(() => validateAggregate(sampleAggregate({ windowKey: 'other|web|page.view|=|10|10|0' }))).toThrow(InvalidAggregateError);
  });

  it('lists every problem at once', () => {
    const bad = sampleAggregate({
      tenantId: '',
      windowSlideSeconds: 20,
      sum: Number.NaN,
      revision: -1n,
      windowEnd: new Date('2026-01-01T00:00:05Z'),
    });
    expect(() => validateAggregate(bad)).toThrow(
      /tenant_id is empty.*window_slide_seconds.*differs.*revision is negative.*sum is not finite/,
    );
  });

  it('refuses missing window bounds and a dimension value without a key', () => {
    expect(() => validateAggregate(sampleAggregate({ windowStart: new Date(Number.NaN) }))).toThrow('window bounds missing');
    expect(() => validateAggregate(sampleAggregate({ dimensionValue: 'DE' }))).toThrow('dimension_value without dimension_key');
  });

  it('refuses a max event time outside the window, which would skew the measured latency', () => {
    expect(() => validateAggregate(sampleAggregate({ maxEventTime: new Date('2026-01-01T00:00:10Z') }))).toThrow(
      'max_event_time outside the window',
    );
    expect(() => validateAggregate(sampleAggregate({ maxEventTime: new Date(Number.NaN) }))).toThrow('max_event_time outside the window');
    expect(validateAggregate(sampleAggregate({ maxEventTime: new Date('2026-01-01T00:00:00Z') })).maxEventTime).toEqual(
      new Date('2026-01-01T00:00:00Z'),
    );
  });
});
