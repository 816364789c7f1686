/**
 * The account: the one model of an `accounts` row (issue #16: Account and LedgerAccount used to be two), and the funds
 * rules a ledger write checks on it. No framework or Prisma imports.
 */
import { MAX_MINOR } from './ledger';
import { ledgerErrors } from './ledger.errors';

export const ACCOUNT_TYPES = ['ASSET', 'LIABILITY', 'REVENUE', 'EXPENSE'] as const;
export type AccountType = (typeof ACCOUNT_TYPES)[number];

export const ACCOUNT_STATUSES = ['ACTIVE', 'FROZEN', 'CLOSED'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];

export interface Account {
  id: string;
  ownerId: string;
  name: string;
  type: AccountType;
  currency: string;
  status: AccountStatus;
  overdraftLimitMinor: bigint;
  /** Posted balance (the postings' sum, cached on the row). */
  balanceMinor: bigint;
  /** Reserved, not yet posted: AUTHORIZED holds plus PENDING (under review) transfers. */
  heldMinor: bigint;
  version: bigint;
  labels: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
}

/** An account as a ledger write holds it locked (LedgerRepository.lockAccounts): what the funds rules and balance updates need. */
export type LockedAccount = Pick<
  Account,
  'id' | 'ownerId' | 'currency' | 'status' | 'balanceMinor' | 'heldMinor' | 'overdraftLimitMinor' | 'version'
>;

/** What can be spent now: posted balance minus reserved (holds and transfers under review). */
export function availableOf(account: Pick<Account, 'balanceMinor' | 'heldMinor'>): bigint {
  return account.balanceMinor - account.heldMinor;
}

/** Debits (or reservations) may take `available` down to -overdraft and no further. */
export function assertCanReserve(account: LockedAccount, amountMinor: bigint): void {
  if (availableOf(account) - amountMinor < -account.overdraftLimitMinor) throw ledgerErrors.insufficientFunds(account.id);
}

/** New money movements need an ACTIVE account on both sides. */
export function assertActive(account: Pick<Account, 'id' | 'status'>): void {
  if (account.status === 'FROZEN') throw ledgerErrors.accountFrozen(account.id);
  if (account.status === 'CLOSED') throw ledgerErrors.accountClosed(account.id);
}

export function assertCurrency(account: Pick<Account, 'id' | 'currency'>, currency: string): void {
  if (account.currency !== currency) throw ledgerErrors.currencyMismatch(account.id, account.currency);
}

/** A credit must keep the cached balance inside int64 (the column and the contract are int64). */
export function assertCanCredit(account: Pick<Account, 'id' | 'balanceMinor'>, amountMinor: bigint): void {
  if (account.balanceMinor + amountMinor > MAX_MINOR) throw ledgerErrors.balanceOverflow(account.id);
}
