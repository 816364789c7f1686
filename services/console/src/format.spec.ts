import { formatCount, formatMinor, formatTime, rollingRange } from './format';

describe('rollingRange', () => {
  it('ends just after now and spans the given seconds, widened for points outside', () => {
    const now = Date.parse('2030-01-01T00:10:00Z');
    expect(rollingRange(now / 1000, now / 1000, 600, now)).toEqual([now / 1000 - 600, now / 1000 + 10]);
    expect(rollingRange(now / 1000 - 3600, now / 1000, 600, now)).toEqual([now / 1000 - 3600, now / 1000 + 10]);
  });
});

describe('formatters', () => {
  it('formats counts, minor units and UTC times', () => {
    expect(formatCount(12345)).toBe('12,345');
    expect(formatCount(2_500_000)).toBe('2.50M');
    expect(formatMinor(123456)).toBe('1,234.56');
    expect(formatTime('2030-01-01T12:34:56.789Z')).toBe('12:34:56');
    expect(formatTime(null)).toBe('–');
  });
});
