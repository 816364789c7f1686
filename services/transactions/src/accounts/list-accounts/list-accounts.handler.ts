import { Injectable } from '@nestjs/common';
import { type Account, type AccountStatus, isCurrency, isUuid } from '../account';
import { accountErrors } from '../account.errors';
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

export function encodePageToken(account: Pick<Account, 'createdAt' | 'id'>): string {
  return Buffer.from(JSON.stringify([account.createdAt.toISOString(), account.id])).toString('base64url');
}

export function decodePageToken(token: string): { createdAt: Date; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as [string, string];
    const date = new Date(createdAt);
    if (Number.isNaN(date.getTime()) || !isUuid(id)) throw new Error('bad token');
    return { createdAt: date, id };
  } catch {
    throw accountErrors.badPageToken();
  }
}
