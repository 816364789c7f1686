import { Injectable } from '@nestjs/common';
import { isUuid } from '../../ledger/ledger';
import { decodePageToken, encodePageToken } from '../../ledger/page-token';
import type { Transfer, TransferStatus } from '../transfer';
import { ledgerErrors } from '../../ledger/ledger.errors';
import { TransferRepository } from '../transfer.repository';

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 500;

export interface ListTransfersQuery {
  accountId?: string;
  /** Only transfers with a side owned by this owner (customer isolation). */
  ownerId?: string;
  status?: TransferStatus;
  batchId?: string;
  pageSize: number;
  pageToken: string;
}

/** ListTransfers (newest first; the cursor is the opaque (created_at, id) of the last row). */
@Injectable()
export class ListTransfersHandler {
  constructor(private readonly transferRepository: TransferRepository) {}

  async execute(query: ListTransfersQuery): Promise<{ transfers: Transfer[]; nextPageToken: string }> {
    if (query.accountId && !isUuid(query.accountId)) throw ledgerErrors.malformedId('account_id');
    if (query.batchId && !isUuid(query.batchId)) throw ledgerErrors.malformedId('batch_id');
    const pageSize = query.pageSize <= 0 ? DEFAULT_PAGE_SIZE : Math.min(query.pageSize, MAX_PAGE_SIZE);
    const before = query.pageToken ? decodePageToken(query.pageToken) : undefined;
    const filter = {
      ...(query.accountId ? { accountId: query.accountId } : {}),
      ...(query.ownerId !== undefined ? { ownerId: query.ownerId } : {}),
      ...(query.status ? { status: query.status } : {}),
      ...(query.batchId ? { batchId: query.batchId } : {}),
    };
    const rows = await this.transferRepository.listTransfers(filter, pageSize + 1, before);
    const page = rows.slice(0, pageSize);
    const last = page.at(-1);
    return { transfers: page, nextPageToken: rows.length > pageSize && last ? encodePageToken(last) : '' };
  }
}
