import { Injectable } from '@nestjs/common';
import { type Account } from '../../ledger/account';
import { type AccountStatus } from '../../ledger/account';
import { isCurrency } from '../../ledger/ledger';
import { accountErrors } from '../account.errors';
import { decodePageToken, encodePageToken } from '../../ledger/page-token';
import { AccountRepository } from '../account.repository';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

export interface ListAccountsQuery {
  ownerId?: string;
  status?: AccountStatus;
  currency?: string;
  pageSize: number;
  pageToken: string;
}

/** Cursor pagination: the token is the opaque (created_at, id) of the last row served. */
@Injectable()
export class ListAccountsHandler {
  constructor(private readonly accounts: AccountRepository) {}

  async execute(query: ListAccountsQuery): Promise<{ accounts: Account[]; nextPageToken: string }> {
    const pageSize = query.pageSize <= 0 ? DEFAULT_PAGE_SIZE : Math.min(query.pageSize, MAX_PAGE_SIZE);
    if (query.currency && !isCurrency(query.currency)) {
      throw accountErrors.invalid([{ field: 'currency', description: 'must be an ISO 4217 currency code such as EUR' }]);
    }
    const after = query.pageToken ? decodePageToken(query.pageToken) : undefined;
    const filter = {
      ...(query.ownerId ? { ownerId: query.ownerId } : {}),
      ...(query.status ? { status: query.status } : {}),
      ...(query.currency ? { currency: query.currency } : {}),
    };
    const rows = await this.accounts.list(filter, pageSize + 1, after);
    const page = rows.slice(0, pageSize);
    const last = page.at(-1);
    return { accounts: page, nextPageToken: rows.length > pageSize && last ? encodePageToken(last) : '' };
  }
}
