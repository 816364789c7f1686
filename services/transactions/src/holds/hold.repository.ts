import { Injectable } from '@nestjs/common';
import type { Prisma, Hold as HoldRow } from '../generated/prisma/client';
import { ledgerErrors } from '../ledger/ledger.errors';
import { PrismaService } from '../platform/prisma.provider';
import type { Hold, HoldStatus } from './hold';

type Tx = Prisma.TransactionClient;

export interface NewHold {
  id: string;
  accountId: string;
  destinationAccountId: string;
  amountMinor: bigint;
  currency: string;
  description: string;
  reference: string;
  screeningId: string;
  expiresAt: Date;
}

const HOLD_LINKS = { capture: { select: { id: true } } } as const;

/** The Prisma side of holds; writes run in the caller's transaction after it locked the accounts involved. */
@Injectable()
export class HoldRepository {
  constructor(private readonly prisma: PrismaService) {}

  async insertHold(tx: Tx, h: NewHold): Promise<Hold> {
    const row = await tx.hold.create({
      data: { ...h, reference: h.reference === '' ? null : h.reference, createdAt: new Date() },
      include: HOLD_LINKS,
    });
    return toHold(row);
  }

  async lockHold(tx: Tx, id: string): Promise<Hold> {
    const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id::text FROM holds WHERE id = ${id}::uuid FOR UPDATE`;
    if (locked.length === 0) throw ledgerErrors.holdNotFound(id);
    return toHold(await tx.hold.findUniqueOrThrow({ where: { id }, include: HOLD_LINKS }));
  }

  async findHold(id: string): Promise<Hold | undefined> {
    const row = await this.prisma.client.hold.findUnique({ where: { id }, include: HOLD_LINKS });
    return row ? toHold(row) : undefined;
  }

  async updateHold(tx: Tx, id: string, data: { status: HoldStatus; capturedMinor?: bigint }): Promise<Hold> {
    return toHold(await tx.hold.update({ where: { id }, data, include: HOLD_LINKS }));
  }

  /** AUTHORIZED holds past expiry on these (already locked) accounts, locked for the caller to release. */
  async lockDueHolds(tx: Tx, accountIds: string[], now: Date): Promise<Hold[]> {
    const ids = await tx.$queryRaw<{ id: string }[]>`SELECT id::text FROM holds
        WHERE account_id = ANY(${accountIds}::uuid[]) AND status = 'AUTHORIZED' AND expires_at <= ${now}
        ORDER BY id FOR UPDATE`;
    if (ids.length === 0) return [];
    const rows = await tx.hold.findMany({ where: { id: { in: ids.map((r) => r.id) } }, include: HOLD_LINKS, orderBy: { id: 'asc' } });
    return rows.map(toHold);
  }

  /** Accounts that have an expired-but-unreleased hold (the sweeper's work list). */
  async accountsWithDueHolds(now: Date, limit: number): Promise<string[]> {
    const rows = await this.prisma.client.$queryRaw<{ account_id: string }[]>`SELECT DISTINCT account_id::text FROM
        (SELECT account_id FROM holds WHERE status = 'AUTHORIZED' AND expires_at <= ${now} ORDER BY expires_at LIMIT ${limit}) due`;
    return rows.map((r) => r.account_id);
  }
}

function toHold(row: HoldRow & { capture: { id: string } | null }): Hold {
  return {
    id: row.id,
    accountId: row.accountId,
    destinationAccountId: row.destinationAccountId,
    amountMinor: row.amountMinor,
    capturedMinor: row.capturedMinor,
    currency: row.currency,
    status: row.status,
    description: row.description,
    reference: row.reference ?? '',
    expiresAt: row.expiresAt,
    captureTransferId: row.capture?.id,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
