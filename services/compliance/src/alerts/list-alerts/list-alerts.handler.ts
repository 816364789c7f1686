import { Injectable } from '@nestjs/common';
import { AppError } from '@tessera/errors';
import type { Alert, AlertStatus } from '../alert';
import { AlertRepository } from '../alert.repository';

const MAX_PAGE = 100;
const DEFAULT_PAGE = 25;

export interface ListAlertsQuery {
  pageSize: number;
  pageToken: string;
  status?: AlertStatus;
  accountId?: string;
  assignee?: string;
}

/** Newest-first alert queue with an opaque keyset cursor (base64url of created_at + id). */
@Injectable()
export class ListAlertsHandler {
  constructor(private readonly alerts: AlertRepository) {}

  async execute(query: ListAlertsQuery): Promise<{ alerts: Alert[]; nextPageToken: string }> {
    if (query.pageSize < 0)
      throw new AppError({
        code: 'COMPLIANCE.INVALID_PAGE',
        kind: 'INVALID_ARGUMENT',
        message: 'page_size must not be negative',
        fieldViolations: [{ field: 'page.page_size', description: 'must be >= 0' }],
      });
    const size = Math.min(query.pageSize || DEFAULT_PAGE, MAX_PAGE);
    const before = query.pageToken ? decodeCursor(query.pageToken) : undefined;
    const rows = await this.alerts.list({ status: query.status, accountId: query.accountId, assignee: query.assignee }, size + 1, before);
    const page = rows.slice(0, size);
    const last = page[page.length - 1];
    return { alerts: page, nextPageToken: rows.length > size && last ? encodeCursor(last) : '' };
  }
}

export function encodeCursor(alert: Pick<Alert, 'createdAt' | 'id'>): string {
  return Buffer.from(JSON.stringify([alert.createdAt.toISOString(), alert.id])).toString('base64url');
}

export function decodeCursor(token: string): { createdAt: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as [string, string];
    const createdAt = new Date(at);
    if (Number.isNaN(createdAt.getTime()) || !/^[0-9a-f-]{36}$/.test(id)) throw new Error('bad cursor');
    return { createdAt, id };
  } catch {
    throw new AppError({
      code: 'COMPLIANCE.INVALID_PAGE_TOKEN',
      kind: 'INVALID_ARGUMENT',
      message: 'page_token is not a token this service issued',
      fieldViolations: [{ field: 'page.page_token', description: 'malformed' }],
    });
  }
}
