/** Account management: opening (and its holder data). The account itself: ledger/account.ts. No framework or Prisma imports. */
import { createHash } from 'node:crypto';
import { ACCOUNT_TYPES, type AccountType } from '../ledger/account';
import { isCurrency, MAX_MINOR } from '../ledger/ledger';
import { accountErrors } from './account.errors';

/** The holder's personal data (PII): sealed at rest by PiiVault, never logged, audited or published. */
export interface AccountHolderData {
  fullName: string;
  address: string;
  nationalId: string;
  country: string;
}

export interface OpenAccountCommand {
  idempotencyKey: string;
  ownerId: string;
  name: string;
  type: AccountType | undefined;
  currency: string;
  overdraftLimitMinor: bigint;
  labels: Record<string, string>;
  holder?: AccountHolderData;
}

/** Checks every field at once so the caller learns all problems in one round trip. */
export function validateOpenAccount(cmd: OpenAccountCommand): OpenAccountCommand & { type: AccountType } {
  const violations: { field: string; description: string }[] = [];
  if (cmd.idempotencyKey.length < 8 || cmd.idempotencyKey.length > 128)
    violations.push({ field: 'idempotency_key', description: 'must be 8 to 128 characters' });
  if (!cmd.ownerId || cmd.ownerId.length > 128) violations.push({ field: 'owner_id', description: 'must be 1 to 128 characters' });
  if (cmd.name.length > 200) violations.push({ field: 'name', description: 'must be at most 200 characters' });
  if (!cmd.type) violations.push({ field: 'type', description: `must be one of ${ACCOUNT_TYPES.join(', ')}` });
  if (!isCurrency(cmd.currency)) violations.push({ field: 'currency', description: 'must be an ISO 4217 currency code such as EUR' });
  if (cmd.overdraftLimitMinor < 0n || cmd.overdraftLimitMinor > MAX_MINOR)
    violations.push({ field: 'overdraft_limit_minor', description: 'must be between 0 and 2^63-1' });
  if (Object.keys(cmd.labels).length > 20) violations.push({ field: 'labels', description: 'at most 20 labels' });
  if (violations.length > 0 || !cmd.type) throw accountErrors.invalid(violations);
  return { ...cmd, type: cmd.type };
}

/**
 * What makes two OpenAccount requests "the same" for idempotency: every field except the key itself,
 * in a canonical order. Same key + same fingerprint = replay; same key + different fingerprint = error.
 */
export function openAccountFingerprint(cmd: OpenAccountCommand, holderDigest: (holder: AccountHolderData) => string): string {
  const canonical = JSON.stringify([
    cmd.ownerId,
    cmd.name,
    cmd.type ?? null,
    cmd.currency,
    cmd.overdraftLimitMinor.toString(),
    Object.entries(cmd.labels).sort(([a], [b]) => a.localeCompare(b)),
    // The holder's PII enters only as a keyed digest: fingerprints are stored at rest.
    cmd.holder ? holderDigest(cmd.holder) : null,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}
