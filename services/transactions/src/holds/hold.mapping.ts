import { paymentsV1 } from '@tessera/contracts';
import type { Hold } from './hold';

export function holdToProto(h: Hold): paymentsV1.Hold {
  return paymentsV1.Hold.fromPartial({
    id: h.id,
    accountId: h.accountId,
    destinationAccountId: h.destinationAccountId,
    amount: { amountMinor: h.amountMinor, currency: h.currency },
    capturedAmount: { amountMinor: h.capturedMinor, currency: h.currency },
    status: paymentsV1.holdStatusFromJSON(`HOLD_STATUS_${h.status}`),
    description: h.description,
    reference: h.reference,
    expiresAt: h.expiresAt,
    captureTransferId: h.captureTransferId ?? '',
    createdAt: h.createdAt,
    updatedAt: h.updatedAt,
  });
}
