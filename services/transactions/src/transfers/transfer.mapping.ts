/** Transfer <-> payments.v1 protobuf (shared by the gRPC face and the events). */
import { paymentsV1 } from '@tessera/contracts';
import type { Transfer, TransferStatus } from './transfer';

export function transferToProto(t: Transfer): paymentsV1.Transfer {
  const posted = t.status === 'POSTED' || t.status === 'REVERSED';
  return paymentsV1.Transfer.fromPartial({
    id: t.id,
    sourceAccountId: t.sourceAccountId,
    destinationAccountId: t.destinationAccountId,
    amount: { amountMinor: t.amountMinor, currency: t.currency },
    status: paymentsV1.transferStatusFromJSON(`TRANSFER_STATUS_${t.status}`),
    kind: paymentsV1.transferKindFromJSON(`TRANSFER_KIND_${t.kind}`),
    description: t.description,
    reference: t.reference,
    postings: posted
      ? [
          { accountId: t.sourceAccountId, amount: { amountMinor: -t.amountMinor, currency: t.currency } },
          { accountId: t.destinationAccountId, amount: { amountMinor: t.amountMinor, currency: t.currency } },
        ]
      : [],
    reversesTransferId: t.reversesTransferId ?? '',
    reversedByTransferId: t.reversedByTransferId ?? '',
    holdId: t.holdId ?? '',
    batchId: t.batchId ?? '',
    screeningId: t.screeningId ?? '',
    traceId: t.traceId ?? '',
    createdAt: t.createdAt,
    ...(t.postedAt ? { postedAt: t.postedAt } : {}),
    labels: t.labels,
  });
}

export function transferStatusFromProto(status: paymentsV1.TransferStatus): TransferStatus | undefined {
  const name = paymentsV1.transferStatusToJSON(status).replace('TRANSFER_STATUS_', '');
  return ['PENDING', 'POSTED', 'DECLINED', 'REVERSED'].includes(name) ? (name as TransferStatus) : undefined;
}
