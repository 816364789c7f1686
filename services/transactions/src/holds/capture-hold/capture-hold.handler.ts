import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { paymentsV1 } from '@tessera/contracts';
import type { FieldViolation } from '@tessera/errors';
import { isUuid } from '../../ledger/ledger';
import { callerScope, IdempotencyStore, type IdempotentResult } from '../../idempotency/idempotency';
import { assertActive, assertCanCredit } from '../../ledger/account';
import { fingerprint, type Money, moneyViolations, validateIdempotencyKey } from '../../ledger/ledger';
import { ledgerErrors } from '../../ledger/ledger.errors';
import { LedgerJournal } from '../../journal/ledger-journal';
import { transferToProto } from '../../transfers/transfer.mapping';
import { TransferRepository } from '../../transfers/transfer.repository';
import { LedgerRepository } from '../../ledger/ledger.repository';
import { HoldExpiry } from '../hold-expiry';
import { holdToProto } from '../hold.mapping';
import { HoldRepository } from '../hold.repository';
import { assertLive } from '../hold.rules';

/** Two-phase transfers, phase two: post up to the authorised amount and release the rest of the reservation. */
@Injectable()
export class CaptureHoldHandler {
  constructor(
    private readonly idempotency: IdempotencyStore,
    private readonly ledger: LedgerRepository,
    private readonly transferRepository: TransferRepository,
    private readonly holds: HoldRepository,
    private readonly journal: LedgerJournal,
    private readonly expiry: HoldExpiry,
  ) {}

  async execute(cmd: {
    idempotencyKey: string;
    holdId: string;
    amount: Money | undefined;
  }): Promise<IdempotentResult<paymentsV1.CaptureHoldResponse>> {
    validateIdempotencyKey(cmd.idempotencyKey);
    if (!isUuid(cmd.holdId)) throw ledgerErrors.malformedId('hold_id');
    if (cmd.amount) {
      const violations: FieldViolation[] = [];
      moneyViolations(cmd.amount, 'amount', violations);
      if (violations.length > 0) throw ledgerErrors.invalid(violations);
    }
    const call = {
      scope: callerScope('payments.CaptureHold'),
      key: cmd.idempotencyKey,
      fingerprint: fingerprint({ ...cmd, idempotencyKey: '' }),
      codec: paymentsV1.CaptureHoldResponse,
    };
    const replay = await this.idempotency.peek(call);
    if (replay) return { response: replay, replayed: true };
    await this.expiry.expireIfDue(cmd.holdId);
    return this.idempotency.transact(call, async (tx) => {
      const hold = await this.holds.lockHold(tx, cmd.holdId);
      assertLive(hold);
      const captured = cmd.amount?.amountMinor ?? hold.amountMinor;
      if (cmd.amount && cmd.amount.currency !== hold.currency) throw ledgerErrors.currencyMismatch(hold.accountId, hold.currency);
      if (captured > hold.amountMinor) throw ledgerErrors.captureExceedsHold(hold.id);
      const accounts = await this.ledger.lockAccounts(tx, [hold.accountId, hold.destinationAccountId]);
      const source = accounts.get(hold.accountId);
      const destination = accounts.get(hold.destinationAccountId);
      if (!source || !destination) throw new Error('accounts not locked');
      assertActive(source);
      assertActive(destination);
      assertCanCredit(destination, captured);
      // Release the whole reservation, post what was captured: available never drops below what the hold already took.
      await this.ledger.adjust(tx, source, { held: -hold.amountMinor });
      const transfer = await this.transferRepository.insertTransfer(
        tx,
        {
          id: randomUUID(),
          kind: 'HOLD_CAPTURE',
          sourceAccountId: source.id,
          destinationAccountId: destination.id,
          amountMinor: captured,
          currency: hold.currency,
          status: 'POSTED',
          description: hold.description,
          reference: hold.reference,
          labels: {},
          holdId: hold.id,
        },
        new Date(),
      );
      await this.ledger.writePostings(tx, transfer, source, destination);
      const after = await this.holds.updateHold(tx, hold.id, { status: 'CAPTURED', capturedMinor: captured });
      const response = { hold: holdToProto(after), transfer: transferToProto(transfer) };
      await this.journal.record(tx, {
        action: 'hold.captured',
        entityType: 'hold',
        entityId: hold.id,
        payload: {
          transferId: transfer.id,
          authorizedMinor: hold.amountMinor.toString(),
          capturedMinor: captured.toString(),
          currency: hold.currency,
        },
        event: { key: source.id, message: response, codec: paymentsV1.HoldCaptured },
      });
      return { response, transferId: transfer.id };
    });
  }
}
