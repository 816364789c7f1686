import { Injectable } from '@nestjs/common';
import type { Principal } from '@tessera/auth';
import { isUuid } from '../ledger/ledger';
import { AccountRepository } from '../accounts/account.repository';
import { ledgerErrors } from '../ledger/ledger.errors';
import { TransferRepository } from '../transfers/transfer.repository';

/**
 * Customer data isolation: a principal with `customerId` reaches only accounts whose ownerId equals it, and
 * transfers touching one of them. Reads of anything else answer exactly like a missing row (NOT_FOUND), so a
 * customer cannot probe which ids exist; moving money from another account is PAYMENTS.ACCOUNT_FORBIDDEN.
 * Staff principals (no customerId) pass. Malformed ids pass too: the handler rejects them with INVALID_ARGUMENT.
 */
@Injectable()
export class OwnershipChecks {
  constructor(
    private readonly accounts: AccountRepository,
    private readonly transferRepository: TransferRepository,
  ) {}

  /** @throws PAYMENTS.ACCOUNT_NOT_FOUND when a customer asks for someone else's account. */
  async assertReadableAccount(principal: Principal, accountId: string): Promise<void> {
    if (principal.customerId === undefined || !isUuid(accountId)) return;
    const account = await this.accounts.findById(accountId);
    if (account && account.ownerId !== principal.customerId) throw ledgerErrors.accountNotFound(accountId);
  }

  /** @throws PAYMENTS.TRANSFER_NOT_FOUND unless one side of the transfer is the customer's. */
  async assertReadableTransfer(principal: Principal, transferId: string): Promise<void> {
    if (principal.customerId === undefined || !isUuid(transferId)) return;
    const transfer = await this.transferRepository.findTransfer(transferId);
    if (!transfer) return;
    const sides = await Promise.all([transfer.sourceAccountId, transfer.destinationAccountId].map((id) => this.accounts.findById(id)));
    if (!sides.some((a) => a?.ownerId === principal.customerId)) throw ledgerErrors.transferNotFound(transferId);
  }

  /** @throws PAYMENTS.ACCOUNT_FORBIDDEN when a customer debits an account that is not theirs (or is missing). */
  async assertDebitable(principal: Principal, sourceAccountIds: readonly string[]): Promise<void> {
    if (principal.customerId === undefined) return;
    for (const id of new Set(sourceAccountIds)) {
      if (!isUuid(id)) continue;
      const account = await this.accounts.findById(id);
      if (!account || account.ownerId !== principal.customerId) throw ledgerErrors.accountForbidden(id);
    }
  }
}
