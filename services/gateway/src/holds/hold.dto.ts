import { paymentsV1 } from '@tessera/contracts';
import { z } from 'zod';
import { transferView } from '../transfers/transfer.dto';
import { emptyToNull, isoOrNull, money, moneyView, shortText, toMoney, toMoneyView, uuid } from '../http/common.dto';

const MAX_TTL_SECONDS = 30 * 24 * 3600;

export const authorizeHoldBody = z
  .object({
    accountId: uuid,
    destinationAccountId: uuid,
    amount: money,
    ttlSeconds: z
      .number()
      .int('must be a whole number of seconds')
      .min(1, 'must be at least 1')
      .max(MAX_TTL_SECONDS, `must be at most ${MAX_TTL_SECONDS} (30 days)`)
      .optional()
      .meta({ description: 'Lifetime of the hold; the server default (7 days) when omitted' }),
    description: shortText(500).optional(),
    reference: shortText(128).optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (value.accountId.toLowerCase() === value.destinationAccountId.toLowerCase()) {
      ctx.addIssue({ code: 'custom', path: ['destinationAccountId'], message: 'must differ from accountId' });
    }
  });
export type AuthorizeHoldBody = z.infer<typeof authorizeHoldBody>;

/** Capture all (no amount) or part of a hold; the remainder is released. */
export const captureHoldBody = z.object({ amount: money.optional() }).strict();
export type CaptureHoldBody = z.infer<typeof captureHoldBody>;

export const voidHoldBody = z.object({ reason: shortText(500).optional() }).strict();
export type VoidHoldBody = z.infer<typeof voidHoldBody>;

export function toAuthorizeHoldRequest(body: AuthorizeHoldBody, idempotencyKey: string): paymentsV1.AuthorizeHoldRequest {
  return paymentsV1.AuthorizeHoldRequest.fromPartial({
    idempotencyKey,
    accountId: body.accountId,
    destinationAccountId: body.destinationAccountId,
    amount: toMoney(body.amount),
    ...(body.ttlSeconds === undefined ? {} : { ttl: { seconds: BigInt(body.ttlSeconds), nanos: 0 } }),
    description: body.description ?? '',
    reference: body.reference ?? '',
  });
}

export function toCaptureHoldRequest(holdId: string, body: CaptureHoldBody, idempotencyKey: string): paymentsV1.CaptureHoldRequest {
  return paymentsV1.CaptureHoldRequest.fromPartial({ idempotencyKey, holdId, ...(body.amount ? { amount: toMoney(body.amount) } : {}) });
}

export const holdView = z.object({
  id: z.string(),
  accountId: z.string(),
  destinationAccountId: z.string(),
  amount: moneyView.nullable(),
  capturedAmount: moneyView.nullable(),
  status: z.string(),
  description: z.string(),
  reference: z.string(),
  expiresAt: z.string().nullable(),
  captureTransferId: z.string().nullable(),
  createdAt: z.string().nullable(),
  updatedAt: z.string().nullable(),
});
export type HoldView = z.infer<typeof holdView>;

export function toHoldView(hold: paymentsV1.Hold): HoldView {
  return {
    id: hold.id,
    accountId: hold.accountId,
    destinationAccountId: hold.destinationAccountId,
    amount: toMoneyView(hold.amount),
    capturedAmount: toMoneyView(hold.capturedAmount),
    status: paymentsV1.holdStatusToJSON(hold.status).replace('HOLD_STATUS_', ''),
    description: hold.description,
    reference: hold.reference,
    expiresAt: isoOrNull(hold.expiresAt),
    captureTransferId: emptyToNull(hold.captureTransferId),
    createdAt: isoOrNull(hold.createdAt),
    updatedAt: isoOrNull(hold.updatedAt),
  };
}

/** A capture answers with the hold and the transfer it posted. */
export const capturedHoldView = z.object({ hold: holdView, transfer: transferView.nullable() });
