/** Transfers: what a money movement is and what a valid instruction looks like. No framework or Prisma imports. */
import type { FieldViolation } from '@tessera/errors';
import { idViolation, type Money, moneyViolations, textViolations } from '../ledger/ledger';
import { ledgerErrors } from '../ledger/ledger.errors';

export type TransferStatus = 'PENDING' | 'POSTED' | 'DECLINED' | 'REVERSED';
export type TransferKind = 'DIRECT' | 'HOLD_CAPTURE' | 'REVERSAL';

export const MAX_BATCH = 100;
export const MAX_LABELS = 20;

export interface Counterparty {
  name: string;
  country: string;
}
export interface TransferInstruction {
  sourceAccountId: string;
  destinationAccountId: string;
  amount: Money | undefined;
  description: string;
  reference: string;
  labels: Record<string, string>;
  counterparty: Counterparty | undefined;
}
export interface Transfer {
  id: string;
  kind: TransferKind;
  sourceAccountId: string;
  destinationAccountId: string;
  amountMinor: bigint;
  currency: string;
  status: TransferStatus;
  rejectionCode: string | undefined;
  description: string;
  reference: string;
  labels: Record<string, string>;
  reversesTransferId: string | undefined;
  reversedByTransferId: string | undefined;
  holdId: string | undefined;
  batchId: string | undefined;
  screeningId: string | undefined;
  /** W3C trace id of the request that created it; undefined when untraced (or created before it was stored). */
  traceId: string | undefined;
  createdAt: Date;
  postedAt: Date | undefined;
}
/** Every field problem of one instruction, with field paths under `prefix` (e.g. `transfers[3]`). */
export function instructionViolations(t: TransferInstruction, prefix: string, violations: FieldViolation[]): void {
  idViolation(t.sourceAccountId, `${prefix}.source_account_id`, violations);
  idViolation(t.destinationAccountId, `${prefix}.destination_account_id`, violations);
  if (t.sourceAccountId !== '' && t.sourceAccountId === t.destinationAccountId) {
    violations.push({ field: `${prefix}.destination_account_id`, description: 'must differ from source_account_id' });
  }
  moneyViolations(t.amount, `${prefix}.amount`, violations);
  textViolations({ [`${prefix}.description`]: t.description, [`${prefix}.reference`]: t.reference }, violations);
  if (Object.keys(t.labels).length > MAX_LABELS)
    violations.push({ field: `${prefix}.labels`, description: `at most ${MAX_LABELS} labels` });
  if (t.counterparty) {
    if (t.counterparty.name.length > 200)
      violations.push({ field: `${prefix}.counterparty.name`, description: 'must be at most 200 characters' });
    if (t.counterparty.country !== '' && !/^[A-Z]{2}$/.test(t.counterparty.country)) {
      violations.push({ field: `${prefix}.counterparty.country`, description: 'must be an ISO 3166-1 alpha-2 code' });
    }
  }
}
export type ValidInstruction = TransferInstruction & { amount: Money };

export function validateInstruction(t: TransferInstruction): ValidInstruction {
  const violations: FieldViolation[] = [];
  instructionViolations(t, 'transfer', violations);
  if (violations.length > 0 || !t.amount) throw ledgerErrors.invalid(violations);
  return { ...t, amount: t.amount };
}
