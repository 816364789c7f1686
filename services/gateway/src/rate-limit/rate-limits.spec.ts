import { DEFAULT_RATE_LIMITS, rateClassOf, rateLimitsSchema } from './rate-limits';

describe('rateLimitsSchema', () => {
  it('keeps the defaults when unset', () => {
    expect(rateLimitsSchema.parse(undefined)).toEqual(DEFAULT_RATE_LIMITS);
  });

  it('overrides only the classes named', () => {
    const limits = rateLimitsSchema.parse('read=5/10s, write=2/1m,auth-failure=3/500ms');
    expect(limits.read).toEqual({ capacity: 5, periodMs: 10_000 });
    expect(limits.write).toEqual({ capacity: 2, periodMs: 60_000 });
    expect(limits['auth-failure']).toEqual({ capacity: 3, periodMs: 500 });
    expect(limits.ingest).toEqual(DEFAULT_RATE_LIMITS.ingest);
  });

  it.each(['reads=5/10s', 'read=5', 'read=0/10s', 'read=5/0s', 'read=-1/1s', 'read=5/10d'])('rejects %p naming the format', (raw) => {
    const result = rateLimitsSchema.safeParse(raw);
    expect(result.success).toBe(false);
  });
});

describe('rateClassOf', () => {
  it('uses the explicit class, else public, else read for GET and write otherwise', () => {
    expect(rateClassOf('POST', false, 'ingest')).toBe('ingest');
    expect(rateClassOf('GET', true, undefined)).toBe('public');
    expect(rateClassOf('GET', false, undefined)).toBe('read');
    expect(rateClassOf('HEAD', false, undefined)).toBe('read');
    expect(rateClassOf('POST', false, undefined)).toBe('write');
  });
});
