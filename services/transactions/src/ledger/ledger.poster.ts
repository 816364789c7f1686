import { Injectable } from '@nestjs/common';
import { paymentsV1 } from '@tessera/contracts';
import { decisionPayload, type Screening } from '../compliance-client/screening';
import type { Prisma } from '../generated/prisma/client';
import type { Sealed } from '../pii/pii-vault';
import { assertActive, assertCanCredit, assertCanReserve, assertCurrency, type LedgerAccount, type Transfer, type ValidInstruction } from './ledger';
import { LedgerJournal } from './ledger.journal';
import { transferToProto } from './ledger.mapping';
import { LedgerRepository } from './ledger.repository';

export interface DirectTransfer {
  id: string;
  instruction: ValidInstruction;
  screening: Screening;
  movementKind: 'transfer' | 'batch';
  batchId?: string;
  sealedCounterparty?: Sealed;
}

/** Applies a screened direct transfer to locked accounts: POSTED, PENDING (held for review) or DECLINED. */
@Injectable()
export class LedgerPoster {
  constructor(
    private readonly ledger: LedgerRepository,
    private readonly journal: LedgerJournal,
  ) {}

  async applyDirect(tx: Prisma.TransactionClient, accounts: Map<string, LedgerAccount>, d: DirectTransfer): Promise<Transfer> {
    const { instruction: ins, screening } = d;
    const source = accounts.get(ins.sourceAccountId);
    const destination = accounts.get(ins.destinationAccountId);
    if (!source || !destination) throw new Error('LedgerPoster: accounts must be locked first');
    const amount = ins.amount.amountMinor;
    for (const account of [source, destination]) {
      assertActive(account);
      assertCurrency(account, ins.amount.currency);
    }
    const status = screening.decision === 'APPROVE' ? 'POSTED' : screening.decision === 'REVIEW' ? 'PENDING' : 'DECLINED';
    if (status !== 'DECLINED') {
      assertCanReserve(source, amount);
      assertCanCredit(destination, amount);
    }
    const now = new Date();
    const transfer = await this.ledger.insertTransfer(
      tx,
      {
        id: d.id,
        kind: 'DIRECT',
        sourceAccountId: source.id,
        destinationAccountId: destination.id,
        amountMinor: amount,
        currency: ins.amount.currency,
        status,
        ...(status === 'DECLINED' ? { rejectionCode: 'COMPLIANCE.DECLINED' } : {}),
        description: ins.description,
        reference: ins.reference,
        labels: ins.labels,
        ...(d.batchId ? { batchId: d.batchId } : {}),
        screeningId: screening.screeningId,
        ...(d.sealedCounterparty ? { sealedCounterparty: d.sealedCounterparty } : {}),
      },
      status === 'POSTED' ? now : undefined,
    );
    if (status === 'POSTED') await this.ledger.writePostings(tx, transfer, source, destination);
    if (status === 'PENDING') await this.ledger.adjust(tx, source, { held: amount });
    await this.journal.record(tx, { action: 'compliance.decision', entityType: 'transfer', entityId: transfer.id, payload: decisionPayload(screening, { movementKind: d.movementKind }) });
    await this.journal.record(tx, {
      action: `transfer.${status.toLowerCase()}`,
      entityType: 'transfer',
      entityId: transfer.id,
      payload: {
        sourceAccountId: source.id,
        destinationAccountId: destination.id,
        amountMinor: amount.toString(),
        currency: transfer.currency,
        status,
        screeningId: screening.screeningId,
        ...(d.batchId ? { batchId: d.batchId } : {}),
      },
      event: { key: source.id, message: { transfer: transferToProto(transfer) }, codec: paymentsV1.TransferCreated },
    });
    return transfer;
  }
}
