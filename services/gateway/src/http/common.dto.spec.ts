import { currency, money, pageQuery, positiveAmountMinor, toPageRequest } from './common.dto';
import { z } from 'zod';

describe('positiveAmountMinor', () => {
  it.each([
    ['1', 1n],
    ['000150', 150n],
    ['9223372036854775807', 9_223_372_036_854_775_807n],
  ])('accepts %p', (input, expected) => {
    expect(positiveAmountMinor.parse(input)).toBe(expected);
  });

  it.each([
    ['zero', '0', 'must be greater than zero'],
    ['a negative amount', '-5', 'must be greater than zero'],
    ['2^63 (int64 overflow)', '9223372036854775808', 'must be at most 9223372036854775807 (int64)'],
    ['a huge amount', '9'.repeat(40), 'must be at most 9223372036854775807 (int64)'],
    ['a decimal', '10.50', 'must be an integer number of minor units, as a decimal string'],
    ['an exponent', '1e3', 'must be an integer number of minor units, as a decimal string'],
    ['an empty string', '', 'must be an integer number of minor units, as a decimal string'],
  ])('rejects %s', (_label, input, message) => {
    const result = positiveAmountMinor.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.message)).toContain(message);
  });

  it('rejects a JSON number: amounts travel as strings so int64 survives JSON', () => {
    expect(positiveAmountMinor.safeParse(1050).success).toBe(false);
  });
});

describe('currency', () => {
  it('accepts ISO 4217 codes', () => {
    for (const code of ['EUR', 'USD', 'JPY', 'CHF']) expect(currency.safeParse(code).success).toBe(true);
  });

  it.each([
    ['ABC', 'unknown ISO 4217 currency'],
    ['eur', 'must be an ISO 4217 code such as EUR'],
    ['EURO', 'must be an ISO 4217 code such as EUR'],
  ])('rejects %p', (code, message) => {
    expect(currency.safeParse(code).error?.issues[0]?.message).toBe(message);
  });
});

describe('money', () => {
  it('rejects unknown fields', () => {
    expect(money.safeParse({ amountMinor: '1', currency: 'EUR', scale: 2 }).success).toBe(false);
  });
});

describe('pageQuery / toPageRequest', () => {
  const schema = z.object(pageQuery).strict();

  it('coerces the page size from the query string and defaults to the server default', () => {
    expect(toPageRequest(schema.parse({ pageSize: '25', pageToken: 'abc' }))).toEqual({ pageSize: 25, pageToken: 'abc' });
    expect(toPageRequest(schema.parse({}))).toEqual({ pageSize: 0, pageToken: '' });
  });

  it.each(['0', '101', '2.5', 'ten'])('rejects page size %p', (pageSize) => {
    expect(schema.safeParse({ pageSize }).success).toBe(false);
  });
});
