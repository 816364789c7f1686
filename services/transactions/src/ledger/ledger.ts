/**
 * Ledger primitives: money, ids and currencies, request checks every use case shares and the idempotency fingerprint
 * (the account and its funds rules: account.ts). Transfers and holds own their types (transfers/transfer.ts, holds/hold.ts). No framework or
 * Prisma imports.
 */
import { createHash } from 'node:crypto';
import type { FieldViolation } from '@tessera/errors';
import { ledgerErrors } from './ledger.errors';

export const MAX_TEXT = 500;
export const MAX_MINOR = 9_223_372_036_854_775_807n; // int64, the contract's and Postgres bigint's limit

const ISO_4217 = new Set(Intl.supportedValuesOf('currency'));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isCurrency(code: string): boolean {
  return ISO_4217.has(code);
}

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export interface Money {
  amountMinor: bigint;
  currency: string;
}

export function validateIdempotencyKey(key: string): void {
  if (key.length < 8 || key.length > 128) throw ledgerErrors.missingIdempotencyKey();
}

/** Field checks of a positive int64 amount in a known currency, reported under `prefix`. */
export function moneyViolations(amount: Money | undefined, prefix: string, violations: FieldViolation[]): void {
  if (!amount) {
    violations.push({ field: prefix, description: 'is required' });
    return;
  }
  if (amount.amountMinor <= 0n) violations.push({ field: `${prefix}.amount_minor`, description: 'must be positive' });
  else if (amount.amountMinor > MAX_MINOR) violations.push({ field: `${prefix}.amount_minor`, description: 'must fit in int64' });
  if (!isCurrency(amount.currency))
    violations.push({ field: `${prefix}.currency`, description: 'must be an ISO 4217 currency code such as EUR' });
}

export function idViolation(value: string, field: string, violations: FieldViolation[]): void {
  if (!isUuid(value)) violations.push({ field, description: 'must be a UUID' });
}

export function textViolations(fields: Record<string, string>, violations: FieldViolation[]): void {
  for (const [field, value] of Object.entries(fields)) {
    if (value.length > MAX_TEXT) violations.push({ field, description: `must be at most ${MAX_TEXT} characters` });
  }
}

/**
 * sha256 of a canonical JSON rendering (object keys sorted, bigint as string): what makes two requests
 * "the same" for idempotency regardless of map order on the wire.
 */
export function fingerprint(value: unknown): string {
  return createHash('sha256').update(canonical(value)).digest('hex');
}

function canonical(value: unknown): string {
  if (typeof value === 'bigint') return JSON.stringify(value.toString());
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (value instanceof Uint8Array) return JSON.stringify(Buffer.from(value).toString('base64'));
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
