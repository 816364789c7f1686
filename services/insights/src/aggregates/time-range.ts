import type { FieldViolation } from '@tessera/errors';

export interface RangeLimits {
  defaultRangeMs: number;
  maxRangeMs: number;
}

/** [from, to): `to` defaults to now, `from` to `to - defaultRangeMs`; an inverted or too long range is a violation. */
export function resolveRange(
  from: Date | undefined,
  to: Date | undefined,
  limits: RangeLimits,
  violations: FieldViolation[],
  now: () => Date = () => new Date(),
): { from: Date; to: Date } {
  const end = to ?? now();
  const start = from ?? new Date(end.getTime() - limits.defaultRangeMs);
  if (start.getTime() >= end.getTime()) violations.push({ field: 'from', description: 'must be before to' });
  else if (end.getTime() - start.getTime() > limits.maxRangeMs) {
    violations.push({ field: 'to', description: `range must be at most ${Math.round(limits.maxRangeMs / 3_600_000)} h` });
  }
  return { from: start, to: end };
}
