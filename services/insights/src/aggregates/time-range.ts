import type { FieldViolation } from '@tessera/errors';

export interface RangeLimits {
  defaultRangeMs: number;
  maxRangeMs: number;
}

/**
 * What PostgreSQL timestamptz takes from an ISO string: year 0001 to 9999 (`0000-...` is "date/time field value
 * out of range", which surfaced as a 500 for `to=0000-01-01T00:30:00Z` or a default `from` an hour before
 * 0001-01-01; found while fuzzing the analytics routes). Bounds are inclusive.
 */
export const EARLIEST_INSTANT = new Date('0001-01-01T00:00:00.000Z');
export const LATEST_INSTANT = new Date('9999-12-31T23:59:59.999Z');

function outOfRange(d: Date): boolean {
  return Number.isNaN(d.getTime()) || d.getTime() < EARLIEST_INSTANT.getTime() || d.getTime() > LATEST_INSTANT.getTime();
}

/**
 * [from, to): `to` defaults to now, `from` to `to - defaultRangeMs`; an inverted or too long range, or a bound
 * (given or defaulted) outside years 0001-9999, is a violation.
 */
export function resolveRange(
  from: Date | undefined,
  to: Date | undefined,
  limits: RangeLimits,
  violations: FieldViolation[],
  now: () => Date = () => new Date(),
): { from: Date; to: Date } {
  const end = to ?? now();
  const start = from ?? new Date(end.getTime() - limits.defaultRangeMs);
  const bounds = `must be between ${EARLIEST_INSTANT.toISOString()} and ${LATEST_INSTANT.toISOString()}`;
  if (outOfRange(end)) violations.push({ field: 'to', description: bounds });
  else if (outOfRange(start))
    violations.push({
      field: 'from',
      description: from ? bounds : `${bounds} (default: to - ${Math.round(limits.defaultRangeMs / 60_000)} min)`,
    });
  else if (start.getTime() >= end.getTime()) violations.push({ field: 'from', description: 'must be before to' });
  else if (end.getTime() - start.getTime() > limits.maxRangeMs) {
    violations.push({ field: 'to', description: `range must be at most ${Math.round(limits.maxRangeMs / 3_600_000)} h` });
  }
  return { from: start, to: end };
}
