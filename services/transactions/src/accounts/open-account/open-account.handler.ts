import { Injectable } from '@nestjs/common';
import { type Account } from '../../ledger/account';
import { openAccountFingerprint, type OpenAccountCommand, validateOpenAccount } from '../account';
import { AccountRepository } from '../account.repository';
import { PiiVault } from '../../pii/pii-vault';

/** Opens an account; the same idempotency key with the same request returns the first account. */
@Injectable()
export class OpenAccountHandler {
  constructor(
    private readonly accounts: AccountRepository,
    private readonly vault: PiiVault,
  ) {}

  async execute(command: OpenAccountCommand): Promise<{ account: Account; replayed: boolean }> {
    const valid = validateOpenAccount(command);
    return this.accounts.openOnce(
      valid.idempotencyKey,
      openAccountFingerprint(valid, (holder) => this.vault.digest(holder)),
      valid,
    );
  }
}
