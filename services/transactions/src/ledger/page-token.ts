import { isUuid } from './ledger';
import { ledgerErrors } from './ledger.errors';

/**
 * Keyset pagination cursor of the newest-first lists (accounts, transfers): the opaque (created_at, id) of the last row,
 * base64url of a JSON pair.
 */
export function encodePageToken(row: { createdAt: Date; id: string }): string {
  return Buffer.from(JSON.stringify([row.createdAt.toISOString(), row.id])).toString('base64url');
}

export function decodePageToken(token: string): { createdAt: Date; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as [string, string];
    const date = new Date(createdAt);
    if (Number.isNaN(date.getTime()) || !isUuid(id)) throw new Error('bad token');
    return { createdAt: date, id };
  } catch {
    throw ledgerErrors.badPageToken();
  }
}
