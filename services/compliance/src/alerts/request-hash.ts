import { createHash } from 'node:crypto';
import { AppError } from '@tessera/errors';

/** sha256 of a request's canonical JSON: detects an idempotency key reused for a different request. */
export function requestHash(value: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)))
    .digest('hex');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** INVALID_ARGUMENT with one field violation per problem, or nothing. */
export function requireValid(checks: Array<[boolean, string, string]>): void {
  const violations = checks.filter(([ok]) => !ok).map(([, field, description]) => ({ field, description }));
  if (violations.length > 0) {
    throw new AppError({
      code: 'COMPLIANCE.INVALID_REQUEST',
      kind: 'INVALID_ARGUMENT',
      message: 'request is invalid',
      fieldViolations: violations,
    });
  }
}

export const isUuid = (v: string): boolean => UUID.test(v);
export const isKey = (v: string): boolean => v.length >= 8 && v.length <= 128;
