import { Injectable } from '@nestjs/common';
import { paymentsV1 } from '@tessera/contracts';
import type { FieldViolation } from '@tessera/errors';
import { isUuid } from '../../ledger/ledger';
import { callerScope, IdempotencyStore, type IdempotentResult } from '../../idempotency/idempotency';
import { fingerprint, textViolations, validateIdempotencyKey } from '../../ledger/ledger';
import { ledgerErrors } from '../../ledger/ledger.errors';
import { LedgerJournal } from '../../journal/ledger-journal';
import { LedgerRepository } from '../../ledger/ledger.repository';
import { HoldExpiry } from '../hold-expiry';
import { holdToProto } from '../hold.mapping';
import { HoldRepository } from '../hold.repository';
import { assertLive } from '../hold.rules';

/** Two-phase transfers, the other phase two: give the whole reservation back. */
@Injectable()
export class VoidHoldHandler {
  constructor(
    private readonly idempotency: IdempotencyStore,
    private readonly ledger: LedgerRepository,
    private readonly holds: HoldRepository,
    private readonly journal: LedgerJournal,
    private readonly expiry: HoldExpiry,
  ) {}

  async execute(cmd: { idempotencyKey: string; holdId: string; reason: string }): Promise<IdempotentResult<paymentsV1.VoidHoldResponse>> {
    validateIdempotencyKey(cmd.idempotencyKey);
    if (!isUuid(cmd.holdId)) throw ledgerErrors.malformedId('hold_id');
    const violations: FieldViolation[] = [];
    textViolations({ reason: cmd.reason }, violations);
    if (violations.length > 0) throw ledgerErrors.invalid(violations);
    const call = {
      scope: callerScope('payments.VoidHold'),
      key: cmd.idempotencyKey,
      fingerprint: fingerprint({ ...cmd, idempotencyKey: '' }),
      codec: paymentsV1.VoidHoldResponse,
    };
    const replay = await this.idempotency.peek(call);
    if (replay) return { response: replay, replayed: true };
    await this.expiry.expireIfDue(cmd.holdId);
    return this.idempotency.transact(call, async (tx) => {
      const hold = await this.holds.lockHold(tx, cmd.holdId);
      assertLive(hold);
      // Voiding is allowed on a frozen account: it only gives funds back.
      const accounts = await this.ledger.lockAccounts(tx, [hold.accountId]);
      const source = accounts.get(hold.accountId);
      if (!source) throw new Error('account not locked');
      await this.ledger.adjust(tx, source, { held: -hold.amountMinor });
      const after = await this.holds.updateHold(tx, hold.id, { status: 'VOIDED' });
      await this.journal.record(tx, {
        action: 'hold.voided',
        entityType: 'hold',
        entityId: hold.id,
        payload: { accountId: hold.accountId, amountMinor: hold.amountMinor.toString(), currency: hold.currency, reason: cmd.reason },
        event: { key: source.id, message: { hold: holdToProto(after), reason: cmd.reason }, codec: paymentsV1.HoldVoided },
      });
      return { response: { hold: holdToProto(after) }, resourceId: hold.id };
    });
  }
}
