import { Injectable } from '@nestjs/common';
import { paymentsV1 } from '@tessera/contracts';
import { decisionPayload, type Screening } from '../compliance-client/screening';
import type { Prisma } from '../generated/prisma/client';
import type { Sealed } from '../pii/pii-vault';
import { assertActive, assertCanCredit, assertCanReserve, assertCurrency, type LockedAccount } from '../ledger/account';
import type { Transfer, ValidInstruction } from './transfer';
import { type JournalEntry, LedgerJournal } from '../journal/ledger-journal';
import { transferToProto } from './transfer.mapping';
import { BalanceDeltas, LedgerRepository } from '../ledger/ledger.repository';
import { type NewTransfer, TransferRepository } from './transfer.repository';
import type { MessageCodec } from '@tessera/kafka';

export interface DirectTransfer {
  id: string;
  instruction: ValidInstruction;
  screening: Screening;
  movementKind: 'transfer' | 'batch';
  batchId?: string;
  sealedCounterparty?: Sealed;
}

/**
 * Applies screened direct transfers to locked accounts: POSTED, PENDING (held for review) or DECLINED.
 * One transfer or a whole batch takes the same path and the same number of statements (transfers, postings,
 * balances, outbox: one INSERT/UPDATE each; audit records are staged with the transaction's others): per-transfer
 * work is in memory, per-batch work is in SQL (issue #10).
 */
@Injectable()
export class TransferPoster {
  constructor(
    private readonly ledger: LedgerRepository,
    private readonly transferRepository: TransferRepository,
    private readonly journal: LedgerJournal,
  ) {}

  async applyDirect(tx: Prisma.TransactionClient, accounts: Map<string, LockedAccount>, d: DirectTransfer): Promise<Transfer> {
    const [transfer] = await this.applyDirectMany(tx, accounts, [d]);
    if (!transfer) throw new Error('applyDirectMany returned nothing');
    return transfer;
  }

  /**
   * In order: each transfer's funds check sees the balances the ones before it left (the in-memory rows are updated
   * as it goes), exactly as if they were applied one by one. Any refusal throws before anything is written.
   */
  async applyDirectMany(tx: Prisma.TransactionClient, accounts: Map<string, LockedAccount>, ds: DirectTransfer[]): Promise<Transfer[]> {
    const deltas = new BalanceDeltas();
    const rows: { transfer: NewTransfer; postedAt?: Date }[] = [];
    const now = new Date();
    for (const d of ds) {
      const { instruction: ins, screening } = d;
      const source = accounts.get(ins.sourceAccountId);
      const destination = accounts.get(ins.destinationAccountId);
      if (!source || !destination) throw new Error('TransferPoster: accounts must be locked first');
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
      if (status === 'POSTED') deltas.post(source, destination, amount);
      if (status === 'PENDING') deltas.adjust(source, { held: amount });
      rows.push({
        transfer: {
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
        ...(status === 'POSTED' ? { postedAt: now } : {}),
      });
    }
    const transfers = await this.transferRepository.insertTransfers(tx, rows);
    await this.ledger.insertPostings(
      tx,
      transfers
        .filter((t) => t.status === 'POSTED')
        .map((t) => ({ transfer: t, sourceId: t.sourceAccountId, destinationId: t.destinationAccountId })),
    );
    await this.ledger.applyDeltas(tx, deltas);
    const entries: JournalEntry<unknown>[] = [];
    transfers.forEach((transfer, i) => {
      const d = ds[i] as DirectTransfer;
      entries.push(
        {
          action: 'compliance.decision',
          entityType: 'transfer',
          entityId: transfer.id,
          payload: decisionPayload(d.screening, { movementKind: d.movementKind }),
        },
        {
          action: `transfer.${transfer.status.toLowerCase()}`,
          entityType: 'transfer',
          entityId: transfer.id,
          payload: {
            sourceAccountId: transfer.sourceAccountId,
            destinationAccountId: transfer.destinationAccountId,
            amountMinor: transfer.amountMinor.toString(),
            currency: transfer.currency,
            status: transfer.status,
            screeningId: d.screening.screeningId,
            ...(d.batchId ? { batchId: d.batchId } : {}),
          },
          event: {
            key: transfer.sourceAccountId,
            message: { transfer: transferToProto(transfer) },
            codec: paymentsV1.TransferCreated as MessageCodec<unknown>,
          },
        },
      );
    });
    await this.journal.recordMany(tx, entries);
    return transfers;
  }
}
