import { Injectable } from '@nestjs/common';
import { HoldExpiry } from '../../holds/hold-expiry';
import { availableOf } from '../../ledger/account';
import { ledgerErrors } from '../../ledger/ledger.errors';
import { LedgerRepository } from '../../ledger/ledger.repository';
import { isUuid } from '../../ledger/ledger';

export interface BalanceView {
  accountId: string;
  currency: string;
  ledgerMinor: bigint;
  heldMinor: bigint;
  availableMinor: bigint;
  version: bigint;
  asOf: Date;
}

/** Posted (ledger) vs held vs available; expired holds are released first so available is never understated. */
@Injectable()
export class GetBalanceHandler {
  constructor(
    private readonly ledger: LedgerRepository,
    private readonly expiry: HoldExpiry,
  ) {}

  async execute(accountId: string): Promise<BalanceView> {
    if (!isUuid(accountId)) throw ledgerErrors.malformedId('account_id');
    let account = (await this.ledger.readAccounts([accountId])).get(accountId);
    if (account && account.heldMinor > 0n && (await this.expiry.releaseAccount(accountId)) > 0) {
      account = (await this.ledger.readAccounts([accountId])).get(accountId);
    }
    if (!account) throw ledgerErrors.accountNotFound(accountId);
    return {
      accountId,
      currency: account.currency,
      ledgerMinor: account.balanceMinor,
      heldMinor: account.heldMinor,
      availableMinor: availableOf(account),
      version: account.version,
      asOf: new Date(),
    };
  }
}
