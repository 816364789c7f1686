import type { commonV1 } from '@tessera/contracts';
import { AppError } from '@tessera/errors';
import { z } from 'zod';

/** Syntactic checks shared by every route. The services re-validate; this only rejects what can never be right. */

export const INT64_MAX = 9_223_372_036_854_775_807n;
const ISO_4217 = new Set(Intl.supportedValuesOf('currency'));

export const uuid = z.string().uuid('must be a UUID');

/** An ISO 4217 code known to the runtime's ICU data (the list ships with Node), e.g. EUR. */
export const currency = z
  .string()
  .regex(/^[A-Z]{3}$/, { message: 'must be an ISO 4217 code such as EUR', abort: true })
  .refine((code) => ISO_4217.has(code), 'unknown ISO 4217 currency')
  .meta({ description: 'ISO 4217 alphabetic code, e.g. EUR', examples: ['EUR'] });

/** A positive amount in minor units, sent as a decimal string so int64 survives JSON; becomes bigint. */
export const positiveAmountMinor = z
  .string()
  .max(32, 'must be at most 9223372036854775807 (int64)')
  .regex(/^-?\d+$/, 'must be an integer number of minor units, as a decimal string')
  .transform((value) => BigInt(value))
  .refine((value) => value > 0n, 'must be greater than zero')
  .refine((value) => value <= INT64_MAX, 'must be at most 9223372036854775807 (int64)')
  .meta({
    description: 'Positive integer amount in minor units (cents), as a decimal string, at most 2^63-1',
    examples: ['1050'],
    pattern: '^0*[1-9][0-9]{0,18}$',
  });

export const money = z.object({ amountMinor: positiveAmountMinor, currency }).strict();
export type MoneyInput = z.infer<typeof money>;

export function toMoney(input: MoneyInput): commonV1.Money {
  return { amountMinor: input.amountMinor, currency: input.currency };
}

/** Free text fields are bounded so a single field cannot exhaust the body limit. */
export const shortText = (max: number) => z.string().max(max, `must be at most ${max} characters`);

export const labels = z
  .record(z.string().min(1).max(64), z.string().max(256))
  .refine((value) => Object.keys(value).length <= 32, 'at most 32 labels');

/** Cursor pagination (`pageSize` 1..100, opaque `pageToken` from the previous page's `nextPageToken`). */
export const pageQuery = {
  pageSize: z.coerce.number().int('must be an integer').min(1, 'must be 1 to 100').max(100, 'must be 1 to 100').optional(),
  pageToken: z.string().max(512, 'must be at most 512 characters').optional(),
};

export function toPageRequest(query: { pageSize?: number | undefined; pageToken?: string | undefined }): commonV1.PageRequest {
  return { pageSize: query.pageSize ?? 0, pageToken: query.pageToken ?? '' };
}

/** REST views of shared wire types. */
export const moneyView = z.object({ amountMinor: z.string(), currency: z.string() });
export type MoneyView = z.infer<typeof moneyView>;

export function toMoneyView(value: commonV1.Money | undefined): MoneyView | null {
  return value === undefined ? null : { amountMinor: value.amountMinor.toString(), currency: value.currency };
}

export function isoOrNull(value: Date | undefined): string | null {
  return value?.toISOString() ?? null;
}

export function emptyToNull(value: string): string | null {
  return value === '' ? null : value;
}

/** A page of items plus the cursor for the next one (null on the last page). */
export function pageView<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextPageToken: z.string().nullable() });
}

export function nextPageTokenOf(page: commonV1.PageResponse | undefined): string | null {
  return emptyToNull(page?.nextPageToken ?? '');
}

/** Upstream answered OK but left out the message field the route returns: a contract bug, not the caller's. */
export function required<T>(value: T | undefined, what: string): T {
  if (value === undefined)
    throw new AppError({ code: 'GATEWAY.EMPTY_RESPONSE', kind: 'INTERNAL', message: `Upstream returned no ${what}` });
  return value;
}
