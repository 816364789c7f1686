import { formatCount, formatMinor, formatMoney, formatTime, rollingRange } from './format';

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

  it("formats money views with the currency's decimals and no int64 precision loss", () => {
    expect(formatMoney({ amountMinor: '123456', currency: 'EUR' })).toBe('1,234.56 EUR');
    expect(formatMoney({ amountMinor: '5', currency: 'EUR' })).toBe('0.05 EUR');
    expect(formatMoney({ amountMinor: '-250', currency: 'USD' })).toBe('-2.50 USD');
    expect(formatMoney({ amountMinor: '1500', currency: 'JPY' })).toBe('1,500 JPY');
    expect(formatMoney({ amountMinor: '1234', currency: 'BHD' })).toBe('1.234 BHD');
    expect(formatMoney({ amountMinor: '9223372036854775807', currency: 'EUR' })).toBe('92,233,720,368,547,758.07 EUR');
    expect(formatMoney({ amountMinor: '1x', currency: 'EUR' })).toBe('–');
    expect(formatMoney(null)).toBe('–');
  });
});
