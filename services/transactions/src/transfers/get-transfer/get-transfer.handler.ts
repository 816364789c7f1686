import { Injectable } from '@nestjs/common';
import { isUuid } from '../../ledger/ledger';
import type { Transfer } from '../transfer';
import { ledgerErrors } from '../../ledger/ledger.errors';
import { TransferRepository } from '../transfer.repository';

/** GetTransfer: one transfer by id (the caller's visibility is checked by the gRPC policy and the gateway). */
@Injectable()
export class GetTransferHandler {
  constructor(private readonly transferRepository: TransferRepository) {}

  async execute(transferId: string): Promise<Transfer> {
    if (!isUuid(transferId)) throw ledgerErrors.malformedId('transfer_id');
    const transfer = await this.transferRepository.findTransfer(transferId);
    if (!transfer) throw ledgerErrors.transferNotFound(transferId);
    return transfer;
  }
}
