import { paymentsV1 } from '@tessera/contracts';
import { z } from 'zod';
import {
  currency,
  INT64_MAX,
  isoOrNull,
  labels,
  moneyView,
  pageQuery,
  pageView,
  shortText,
  toMoneyView,
  toPageRequest,
  uuid,
} from '../http/common.dto';

const ACCOUNT_TYPES = ['ASSET', 'LIABILITY', 'REVENUE', 'EXPENSE'] as const;
const ACCOUNT_STATUSES = ['ACTIVE', 'FROZEN', 'CLOSED'] as const;

/** Minor units travel as JSON strings (or safe integers) and become bigint; never floats. */
export const minorUnits = z
  .union([
    z.string().regex(/^-?\d{1,19}$/, 'must be an integer number of minor units'),
    z.number().int().refine(Number.isSafeInteger, 'must be a safe integer'),
  ])
  .transform((value) => BigInt(value))
  .refine((value) => value >= 0n && value <= 9_223_372_036_854_775_807n, 'must be between 0 and 2^63-1');

/** The holder's personal data: forwarded to transactions, which encrypts it at rest; never logged or echoed. */
const accountHolder = z
  .object({
    fullName: z.string().min(1).max(200),
    address: shortText(500).optional(),
    nationalId: shortText(64).optional(),
    country: z
      .string()
      .regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as DE')
      .optional(),
  })
  .strict();

export const openAccountBody = z
  .object({
    ownerId: z.string().min(1).max(128),
    name: z.string().min(1).max(200).optional(),
    type: z.enum(ACCOUNT_TYPES),
    currency,
    overdraftLimitMinor: minorUnits.optional(),
    labels: labels.optional(),
    holder: accountHolder.optional(),
  })
  .strict();
export type OpenAccountBody = z.infer<typeof openAccountBody>;

export const accountIdParam = uuid;

export const listAccountsQuery = z
  .object({
    ownerId: z.string().min(1).max(128).optional(),
    status: z.enum(ACCOUNT_STATUSES).optional(),
    currency: currency.optional(),
    ...pageQuery,
  })
  .strict();
export type ListAccountsQuery = z.infer<typeof listAccountsQuery>;

/** Body of freeze and close: why (audited, no PII) and an optional optimistic-concurrency version. */
export const changeAccountStatusBody = z
  .object({
    reason: shortText(500).optional(),
    // 19 digits can exceed int64, which would fail serialising the gRPC request (a 500): found by the fuzz e2e.
    expectedVersion: z
      .string()
      .regex(/^[1-9]\d{0,18}$/, { message: 'must be a positive integer version, as a decimal string', abort: true })
      .refine((v) => BigInt(v) <= INT64_MAX, 'must be at most 9223372036854775807 (int64)')
      .optional(),
  })
  .strict();
export type ChangeAccountStatusBody = z.infer<typeof changeAccountStatusBody>;

export function toOpenAccountRequest(body: OpenAccountBody, idempotencyKey: string): paymentsV1.OpenAccountRequest {
  return paymentsV1.OpenAccountRequest.fromPartial({
    idempotencyKey,
    ownerId: body.ownerId,
    name: body.name ?? '',
    type: paymentsV1.AccountType[`ACCOUNT_TYPE_${body.type}`],
    currency: body.currency,
    overdraftLimitMinor: body.overdraftLimitMinor ?? 0n,
    labels: body.labels ?? {},
    ...(body.holder
      ? {
          holder: {
            fullName: body.holder.fullName,
            address: body.holder.address ?? '',
            nationalId: body.holder.nationalId ?? '',
            country: body.holder.country ?? '',
          },
        }
      : {}),
  });
}

export function toListAccountsRequest(query: ListAccountsQuery): paymentsV1.ListAccountsRequest {
  return paymentsV1.ListAccountsRequest.fromPartial({
    page: toPageRequest(query),
    ownerId: query.ownerId ?? '',
    status: query.status ? paymentsV1.AccountStatus[`ACCOUNT_STATUS_${query.status}`] : paymentsV1.AccountStatus.ACCOUNT_STATUS_UNSPECIFIED,
    currency: query.currency ?? '',
  });
}

export function toChangeStatusRequest(
  accountId: string,
  body: ChangeAccountStatusBody,
  idempotencyKey: string,
): paymentsV1.FreezeAccountRequest {
  return {
    idempotencyKey,
    accountId,
    reason: body.reason ?? '',
    expectedVersion: body.expectedVersion ? BigInt(body.expectedVersion) : 0n,
  };
}

/** The REST view of an account: enum names without prefixes, bigint as decimal strings. */
export const accountView = z.object({
  id: z.string(),
  ownerId: z.string(),
  name: z.string(),
  type: z.string(),
  currency: z.string(),
  status: z.string(),
  overdraftLimitMinor: z.string(),
  version: z.string(),
  createdAt: z.string().nullable(),
});
export type AccountView = z.infer<typeof accountView>;
export const accountPageView = pageView(accountView);

export function toAccountView(account: paymentsV1.Account): AccountView {
  return {
    id: account.id,
    ownerId: account.ownerId,
    name: account.name,
    type: paymentsV1.accountTypeToJSON(account.type).replace('ACCOUNT_TYPE_', ''),
    currency: account.currency,
    status: paymentsV1.accountStatusToJSON(account.status).replace('ACCOUNT_STATUS_', ''),
    overdraftLimitMinor: account.overdraftLimitMinor.toString(),
    version: account.version.toString(),
    createdAt: account.createdAt?.toISOString() ?? null,
  };
}

/** Ledger (posted) vs. available (ledger - held, what a new transfer may spend) vs. held balance. */
export const balanceView = z.object({
  accountId: z.string(),
  ledger: moneyView.nullable(),
  available: moneyView.nullable(),
  held: moneyView.nullable(),
  version: z.string(),
  asOf: z.string().nullable(),
});
export type BalanceView = z.infer<typeof balanceView>;

export function toBalanceView(balance: paymentsV1.Balance): BalanceView {
  return {
    accountId: balance.accountId,
    ledger: toMoneyView(balance.ledger),
    available: toMoneyView(balance.available),
    held: toMoneyView(balance.held),
    version: balance.version.toString(),
    asOf: isoOrNull(balance.asOf),
  };
}
