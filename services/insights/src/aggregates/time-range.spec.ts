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
});
