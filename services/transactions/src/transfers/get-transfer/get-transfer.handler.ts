import { Injectable } from '@nestjs/common';
import { isUuid } from '../../accounts/account';
import type { Transfer } from '../../ledger/ledger';
import { ledgerErrors } from '../../ledger/ledger.errors';
import { LedgerRepository } from '../../ledger/ledger.repository';

/** GetTransfer: one transfer by id (the caller's visibility is checked by the gRPC policy and the gateway). */
@Injectable()
export class GetTransferHandler {
  constructor(private readonly ledger: LedgerRepository) {}

  async execute(transferId: string): Promise<Transfer> {
    if (!isUuid(transferId)) throw ledgerErrors.malformedId('transfer_id');
    const transfer = await this.ledger.findTransfer(transferId);
    if (!transfer) throw ledgerErrors.transferNotFound(transferId);
    return transfer;
  }
}
