import { Injectable } from '@nestjs/common';
import { paymentsV1 } from '@tessera/contracts';
import { randomUUID } from 'node:crypto';
import { isUuid } from '../../ledger/ledger';
import { HoldExpiry } from '../../holds/hold-expiry';
import { callerScope, IdempotencyStore, type IdempotentResult } from '../../idempotency/idempotency';
import { assertCanCredit, assertCanReserve } from '../../ledger/account';
import { fingerprint, MAX_TEXT, validateIdempotencyKey } from '../../ledger/ledger';
import { ledgerErrors } from '../../ledger/ledger.errors';
import { LedgerJournal } from '../../journal/ledger-journal';
import { transferToProto } from '../transfer.mapping';
import { TransferRepository } from '../transfer.repository';
import { LedgerRepository } from '../../ledger/ledger.repository';
import { LedgerMetrics } from '../../ledger/ledger.metrics';

const SCOPE = 'payments.ReverseTransfer';

/**
 * Undoes a POSTED transfer with a new, opposite transfer that points at it (UNIQUE: one reversal per
 * transfer); the original's postings stay untouched. Frozen accounts may be reversed (it is how
 * compliance unwinds), closed ones not; the debited side still needs the funds.
 */
@Injectable()
export class ReverseTransferHandler {
  private readonly metrics = new LedgerMetrics();

  constructor(
    private readonly idempotency: IdempotencyStore,
    private readonly ledger: LedgerRepository,
    private readonly transferRepository: TransferRepository,
    private readonly journal: LedgerJournal,
    private readonly holdExpiry: HoldExpiry,
  ) {}

  async execute(cmd: {
    idempotencyKey: string;
    transferId: string;
    reason: string;
  }): Promise<IdempotentResult<paymentsV1.ReverseTransferResponse>> {
    validateIdempotencyKey(cmd.idempotencyKey);
    if (!isUuid(cmd.transferId)) throw ledgerErrors.malformedId('transfer_id');
    if (cmd.reason.length > MAX_TEXT)
      throw ledgerErrors.invalid([{ field: 'reason', description: `must be at most ${MAX_TEXT} characters` }]);
    const call = {
      scope: callerScope(SCOPE),
      key: cmd.idempotencyKey,
      fingerprint: fingerprint({ t: cmd.transferId, r: cmd.reason }),
      codec: paymentsV1.ReverseTransferResponse,
    };
    const result = await this.idempotency.transact(call, async (tx) => {
      const original = await this.transferRepository.lockTransfer(tx, cmd.transferId);
      if (original.kind === 'REVERSAL') throw ledgerErrors.reversalOfReversal(original.id);
      if (original.status === 'REVERSED') throw ledgerErrors.alreadyReversed(original.id);
      if (original.status !== 'POSTED') throw ledgerErrors.transferNotPosted(original.id, original.status);
      const accounts = await this.holdExpiry.lockAndRelease(tx, [original.sourceAccountId, original.destinationAccountId]);
      // The reversal debits the original destination and credits the original source.
      const debit = accounts.get(original.destinationAccountId);
      const credit = accounts.get(original.sourceAccountId);
      if (!debit || !credit) throw new Error('accounts not locked');
      for (const account of [debit, credit]) if (account.status === 'CLOSED') throw ledgerErrors.accountClosed(account.id);
      assertCanReserve(debit, original.amountMinor);
      assertCanCredit(credit, original.amountMinor);
      const reversal = await this.transferRepository.insertTransfer(
        tx,
        {
          id: randomUUID(),
          kind: 'REVERSAL',
          sourceAccountId: debit.id,
          destinationAccountId: credit.id,
          amountMinor: original.amountMinor,
          currency: original.currency,
          status: 'POSTED',
          description: `Reversal of ${original.id}`,
          reference: original.reference,
          labels: {},
          reversesTransferId: original.id,
        },
        new Date(),
      );
      await this.ledger.writePostings(tx, reversal, debit, credit);
      const reversed = await this.transferRepository.updateTransferStatus(tx, original.id, 'REVERSED');
      const response = { original: transferToProto(reversed), reversal: transferToProto(reversal) };
      await this.journal.record(tx, {
        action: 'transfer.reversed',
        entityType: 'transfer',
        entityId: original.id,
        payload: { reversalId: reversal.id, amountMinor: original.amountMinor.toString(), currency: original.currency, reason: cmd.reason },
        event: { key: debit.id, message: { ...response, reason: cmd.reason }, codec: paymentsV1.TransferReversed },
      });
      return { response, transferId: reversal.id };
    });
    // After the commit, and not for replays: a rolled-back or repeated request counts nothing.
    if (!result.replayed) this.metrics.record([result.response.original]);
    return result;
  }
}
