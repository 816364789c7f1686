import type { FieldViolation } from '@tessera/errors';
import { resolveRange } from './time-range';

const limits = { defaultRangeMs: 3_600_000, maxRangeMs: 86_400_000 };
const now = () => new Date('2026-01-02T00:00:00Z');

describe('resolveRange', () => {
  it('defaults to the last defaultRangeMs', () => {
    const v: FieldViolation[] = [];
    expect(resolveRange(undefined, undefined, limits, v, now)).toEqual({ from: new Date('2026-01-01T23:00:00Z'), to: now() });
    expect(v).toEqual([]);
  });

  it('flags an inverted and an over-long range', () => {
    const v: FieldViolation[] = [];
    resolveRange(now(), now(), limits, v, now);
    resolveRange(new Date('2025-01-01T00:00:00Z'), undefined, limits, v, now);
    expect(v.map((x) => x.field)).toEqual(['from', 'to']);
  });

  // Found while fuzzing the analytics routes: year 0000 reached PostgreSQL ("date/time field value out of range") as a 500.
  it('flags bounds PostgreSQL cannot hold, given or defaulted, instead of querying with them', () => {
    const at = (iso: string) => new Date(iso);
    const cases: [Date | undefined, Date | undefined, string][] = [
      [undefined, at('0000-01-01T00:30:00Z'), 'to'],
      [at('0000-01-01T00:00:00Z'), at('0001-01-01T00:30:00Z'), 'from'],
      [undefined, at('0001-01-01T00:30:00Z'), 'from'], // the default from is an hour earlier: year 0000
      [at('9999-12-31T23:00:00Z'), at('+010000-01-01T00:00:00Z'), 'to'],
      [undefined, new Date(Number.NaN), 'to'],
    ];
    for (const [from, to, field] of cases) {
      const v: FieldViolation[] = [];
      resolveRange(from, to, limits, v, now);
      expect(v).toEqual([
        { field, description: expect.stringContaining('must be between 0001-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z') },
      ]);
    }
    const v: FieldViolation[] = [];
    resolveRange(at('0001-01-01T00:00:00Z'), at('0001-01-01T00:30:00Z'), limits, v, now);
    resolveRange(at('9999-12-31T23:00:00Z'), at('9999-12-31T23:59:59.999Z'), limits, v, now);
    expect(v).toEqual([]);
  });
});
