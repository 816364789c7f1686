import { paymentsV1 } from '@tessera/contracts';
import { z } from 'zod';
import {
  emptyToNull,
  isoOrNull,
  labels,
  money,
  moneyView,
  pageQuery,
  pageView,
  shortText,
  toMoney,
  toMoneyView,
  toPageRequest,
  uuid,
} from '../http/common.dto';

const TRANSFER_STATUSES = ['PENDING', 'POSTED', 'DECLINED', 'REVERSED'] as const;
export const MAX_BATCH = 100;

/** The external party, screened against sanctions lists by compliance (PII: forwarded, never logged). */
const counterparty = z
  .object({
    name: z.string().trim().min(1, 'required').max(200, 'must be at most 200 characters'),
    country: z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as DE'),
  })
  .strict();

/** One transfer instruction; shared by the single and the batch route. */
export const transferInstruction = z
  .object({
    sourceAccountId: uuid,
    destinationAccountId: uuid,
    amount: money,
    description: shortText(500).optional(),
    reference: shortText(128).optional(),
    labels: labels.optional(),
    counterparty: counterparty.optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (value.sourceAccountId.toLowerCase() === value.destinationAccountId.toLowerCase()) {
      ctx.addIssue({ code: 'custom', path: ['destinationAccountId'], message: 'must differ from sourceAccountId' });
    }
  });
export type TransferInstructionBody = z.infer<typeof transferInstruction>;
export const createTransferBody = transferInstruction;

export const createTransferBatchBody = z
  .object({ transfers: z.array(transferInstruction).min(1, 'at least one transfer').max(MAX_BATCH, `at most ${MAX_BATCH} transfers`) })
  .strict();
export type CreateTransferBatchBody = z.infer<typeof createTransferBatchBody>;

export const reverseTransferBody = z.object({ reason: shortText(500).optional() }).strict();
export type ReverseTransferBody = z.infer<typeof reverseTransferBody>;

export const listTransfersQuery = z
  .object({ accountId: uuid.optional(), status: z.enum(TRANSFER_STATUSES).optional(), batchId: uuid.optional(), ...pageQuery })
  .strict();
export type ListTransfersQuery = z.infer<typeof listTransfersQuery>;

export function toTransferInstruction(body: TransferInstructionBody): paymentsV1.TransferInstruction {
  return paymentsV1.TransferInstruction.fromPartial({
    sourceAccountId: body.sourceAccountId,
    destinationAccountId: body.destinationAccountId,
    amount: toMoney(body.amount),
    description: body.description ?? '',
    reference: body.reference ?? '',
    labels: body.labels ?? {},
    ...(body.counterparty ? { counterparty: { name: body.counterparty.name, country: body.counterparty.country } } : {}),
  });
}

export function toListTransfersRequest(query: ListTransfersQuery): paymentsV1.ListTransfersRequest {
  return {
    page: toPageRequest(query),
    accountId: query.accountId ?? '',
    status: query.status
      ? paymentsV1.TransferStatus[`TRANSFER_STATUS_${query.status}`]
      : paymentsV1.TransferStatus.TRANSFER_STATUS_UNSPECIFIED,
    batchId: query.batchId ?? '',
  };
}

export const transferView = z.object({
  id: z.string(),
  sourceAccountId: z.string(),
  destinationAccountId: z.string(),
  amount: moneyView.nullable(),
  status: z.enum([...TRANSFER_STATUSES, 'UNSPECIFIED']),
  kind: z.string(),
  description: z.string(),
  reference: z.string(),
  postings: z.array(z.object({ accountId: z.string(), amount: moneyView.nullable() })),
  reversesTransferId: z.string().nullable(),
  reversedByTransferId: z.string().nullable(),
  holdId: z.string().nullable(),
  batchId: z.string().nullable(),
  screeningId: z.string().nullable(),
  /** The console links a transfer to its trace with this (TESSERA_TRACE_URL). */
  traceId: z
    .string()
    .nullable()
    .meta({
      description:
        'W3C trace id (32 hex) of the request that created the transfer; null when untraced or created before trace ids were stored',
      examples: ['4bf92f3577b34da6a3ce929d0e0e4736'],
    }),
  createdAt: z.string().nullable(),
  postedAt: z.string().nullable(),
  labels: z.record(z.string(), z.string()),
});
export type TransferView = z.infer<typeof transferView>;
export const transferPageView = pageView(transferView);
export const transferBatchView = z.object({ batchId: z.string(), transfers: z.array(transferView) });
export const reversalView = z.object({ original: transferView.nullable(), reversal: transferView.nullable() });

export function toTransferView(transfer: paymentsV1.Transfer): TransferView {
  return {
    id: transfer.id,
    sourceAccountId: transfer.sourceAccountId,
    destinationAccountId: transfer.destinationAccountId,
    amount: toMoneyView(transfer.amount),
    status: paymentsV1.transferStatusToJSON(transfer.status).replace('TRANSFER_STATUS_', '') as TransferView['status'],
    kind: paymentsV1.transferKindToJSON(transfer.kind).replace('TRANSFER_KIND_', ''),
    description: transfer.description,
    reference: transfer.reference,
    postings: transfer.postings.map((p) => ({ accountId: p.accountId, amount: toMoneyView(p.amount) })),
    reversesTransferId: emptyToNull(transfer.reversesTransferId),
    reversedByTransferId: emptyToNull(transfer.reversedByTransferId),
    holdId: emptyToNull(transfer.holdId),
    batchId: emptyToNull(transfer.batchId),
    screeningId: emptyToNull(transfer.screeningId),
    traceId: emptyToNull(transfer.traceId),
    createdAt: isoOrNull(transfer.createdAt),
    postedAt: isoOrNull(transfer.postedAt),
    labels: { ...transfer.labels },
  };
}
