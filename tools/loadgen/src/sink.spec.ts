import { ApiKeys, parseRetryAfter } from './sink';

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP dates', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter('0.5')).toBe(500);
    const now = Date.parse('2030-01-01T00:00:00Z');
    expect(parseRetryAfter('Tue, 01 Jan 2030 00:00:03 GMT', now)).toBe(3000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});

describe('ApiKeys', () => {
  it('uses one key for every tenant or a key per tenant', () => {
    expect(ApiKeys.parse('demo-key').for('acme')).toBe('demo-key');
    const keys = ApiKeys.parse('demo:demo-key, acme:acme-key');
    expect(keys.for('acme')).toBe('acme-key');
    expect(keys.for('globex')).toBeUndefined();
    expect(() => ApiKeys.parse('demo:,acme:x')).toThrow(RangeError);
  });
});
