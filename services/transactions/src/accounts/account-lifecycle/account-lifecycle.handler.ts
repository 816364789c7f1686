import { Injectable } from '@nestjs/common';
import { paymentsV1 } from '@tessera/contracts';
import { HoldExpiry } from '../../holds/hold-expiry';
import { IdempotencyStore, type IdempotentResult } from '../../idempotency/idempotency';
import { fingerprint, MAX_TEXT, validateIdempotencyKey } from '../../ledger/ledger';
import { ledgerErrors } from '../../ledger/ledger.errors';
import { LedgerJournal } from '../../journal/ledger-journal';
import { LedgerRepository } from '../../ledger/ledger.repository';
import { isUuid } from '../../ledger/ledger';
import { AccountRepository } from '../account.repository';
import { toProto } from '../account.mapping';

export interface AccountLifecycleCommand {
  idempotencyKey: string;
  accountId: string;
  reason: string;
  /** 0 = no optimistic check (proto3 int64 has no presence; versions start at 0 but a new account has nothing to protect). */
  expectedVersion: bigint;
}

/** Freeze (ACTIVE -> FROZEN) and close (ACTIVE|FROZEN -> CLOSED, only empty and without reservations). */
@Injectable()
export class AccountLifecycleHandler {
  constructor(
    private readonly idempotency: IdempotencyStore,
    private readonly ledger: LedgerRepository,
    private readonly accounts: AccountRepository,
    private readonly journal: LedgerJournal,
    private readonly expiry: HoldExpiry,
  ) {}

  async freeze(cmd: AccountLifecycleCommand): Promise<IdempotentResult<paymentsV1.FreezeAccountResponse>> {
    this.validate(cmd);
    const call = {
      scope: 'payments.FreezeAccount',
      key: cmd.idempotencyKey,
      fingerprint: fingerprint({ ...cmd, idempotencyKey: '' }),
      codec: paymentsV1.FreezeAccountResponse,
    };
    return this.idempotency.transact(call, async (tx) => {
      const account = (await this.ledger.lockAccounts(tx, [cmd.accountId])).get(cmd.accountId);
      if (!account) throw ledgerErrors.accountNotFound(cmd.accountId);
      if (cmd.expectedVersion !== 0n && account.version !== cmd.expectedVersion)
        throw ledgerErrors.versionMismatch(account.id, cmd.expectedVersion, account.version);
      if (account.status === 'CLOSED') throw ledgerErrors.accountClosed(account.id);
      if (account.status === 'FROZEN') throw ledgerErrors.accountFrozen(account.id);
      await this.ledger.setAccountStatus(tx, account, 'FROZEN');
      const proto = toProto(await this.accounts.findIn(tx, account.id));
      await this.journal.record(tx, {
        action: 'account.frozen',
        entityType: 'account',
        entityId: account.id,
        payload: { reason: cmd.reason, version: account.version.toString() },
        event: { key: account.id, message: { account: proto, reason: cmd.reason }, codec: paymentsV1.AccountFrozen },
      });
      return { response: { account: proto }, resourceId: account.id };
    });
  }

  async close(cmd: AccountLifecycleCommand): Promise<IdempotentResult<paymentsV1.CloseAccountResponse>> {
    this.validate(cmd);
    const call = {
      scope: 'payments.CloseAccount',
      key: cmd.idempotencyKey,
      fingerprint: fingerprint({ ...cmd, idempotencyKey: '' }),
      codec: paymentsV1.CloseAccountResponse,
    };
    return this.idempotency.transact(call, async (tx) => {
      const locked = await this.ledger.lockAccounts(tx, [cmd.accountId]);
      const account = locked.get(cmd.accountId);
      if (!account) throw ledgerErrors.accountNotFound(cmd.accountId);
      if (cmd.expectedVersion !== 0n && account.version !== cmd.expectedVersion)
        throw ledgerErrors.versionMismatch(account.id, cmd.expectedVersion, account.version);
      if (account.status === 'CLOSED') throw ledgerErrors.accountClosed(account.id);
      await this.expiry.releaseDue(tx, locked);
      if (account.heldMinor !== 0n) throw ledgerErrors.accountHasHolds(account.id);
      if (account.balanceMinor !== 0n) throw ledgerErrors.accountNotEmpty(account.id);
      await this.ledger.setAccountStatus(tx, account, 'CLOSED');
      const proto = toProto(await this.accounts.findIn(tx, account.id));
      await this.journal.record(tx, {
        action: 'account.closed',
        entityType: 'account',
        entityId: account.id,
        payload: { reason: cmd.reason, version: account.version.toString() },
        event: { key: account.id, message: { account: proto, reason: cmd.reason }, codec: paymentsV1.AccountClosed },
      });
      return { response: { account: proto }, resourceId: account.id };
    });
  }

  private validate(cmd: AccountLifecycleCommand): void {
    validateIdempotencyKey(cmd.idempotencyKey);
    if (!isUuid(cmd.accountId)) throw ledgerErrors.malformedId('account_id');
    if (cmd.reason.length > MAX_TEXT)
      throw ledgerErrors.invalid([{ field: 'reason', description: `must be at most ${MAX_TEXT} characters` }]);
    if (cmd.expectedVersion < 0n) throw ledgerErrors.invalid([{ field: 'expected_version', description: 'must not be negative' }]);
  }
}
