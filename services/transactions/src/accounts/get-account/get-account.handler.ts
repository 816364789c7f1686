import { Injectable } from '@nestjs/common';
import { type Account } from '../../ledger/account';
import { isUuid } from '../../ledger/ledger';
import { accountErrors } from '../account.errors';
import { AccountRepository } from '../account.repository';

@Injectable()
export class GetAccountHandler {
  constructor(private readonly accounts: AccountRepository) {}

  async execute(accountId: string): Promise<Account> {
    if (!isUuid(accountId)) throw accountErrors.malformedId('account_id');
    const account = await this.accounts.findById(accountId);
    if (!account) throw accountErrors.notFound(accountId);
    return account;
  }
}
