import { paymentsV1 } from '@tessera/contracts';
import { z } from 'zod';

const ACCOUNT_TYPES = ['ASSET', 'LIABILITY', 'REVENUE', 'EXPENSE'] as const;

/** Minor units travel as JSON strings (or safe integers) and become bigint; never floats. */
export const minorUnits = z
  .union([z.string().regex(/^-?\d{1,19}$/, 'must be an integer number of minor units'), z.number().int().refine(Number.isSafeInteger, 'must be a safe integer')])
  .transform((value) => BigInt(value))
  .refine((value) => value >= 0n && value <= 9_223_372_036_854_775_807n, 'must be between 0 and 2^63-1');

export const openAccountBody = z
  .object({
    ownerId: z.string().min(1).max(128),
    name: z.string().min(1).max(200).optional(),
    type: z.enum(ACCOUNT_TYPES),
    currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as EUR'),
    overdraftLimitMinor: minorUnits.optional(),
    labels: z.record(z.string().max(64), z.string().max(256)).optional(),
  })
  .strict();
export type OpenAccountBody = z.infer<typeof openAccountBody>;

export const accountIdParam = z.string().uuid('must be a UUID');
export const idempotencyKeyHeader = z.string().min(8, 'must be 8 to 128 characters').max(128, 'must be 8 to 128 characters');

export function toOpenAccountRequest(body: OpenAccountBody, idempotencyKey: string): paymentsV1.OpenAccountRequest {
  return paymentsV1.OpenAccountRequest.fromPartial({
    idempotencyKey,
    ownerId: body.ownerId,
    name: body.name ?? '',
    type: paymentsV1.AccountType[`ACCOUNT_TYPE_${body.type}`],
    currency: body.currency,
    overdraftLimitMinor: body.overdraftLimitMinor ?? 0n,
    labels: body.labels ?? {},
  });
}

/** The REST view of an account: enum names without prefixes, bigint as decimal strings. */
export interface AccountView {
  id: string;
  ownerId: string;
  name: string;
  type: string;
  currency: string;
  status: string;
  overdraftLimitMinor: string;
  version: string;
  createdAt: string | null;
}

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
