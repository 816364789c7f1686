import { Injectable } from '@nestjs/common';
import type { Prisma, Hold as HoldRow, Transfer as TransferRow } from '../generated/prisma/client';
import { PrismaService } from '../platform/prisma.provider';
import { activeTraceId } from '../platform/trace-id';
import type { Hold, HoldStatus, LedgerAccount, Transfer, TransferKind, TransferStatus } from './ledger';
import { ledgerErrors } from './ledger.errors';
import { transferRowOf, writeSetOf } from './write-set';

type Tx = Prisma.TransactionClient;

export interface NewTransfer {
  id: string;
  kind: TransferKind;
  sourceAccountId: string;
  destinationAccountId: string;
  amountMinor: bigint;
  currency: string;
  status: TransferStatus;
  rejectionCode?: string;
  description: string;
  reference: string;
  labels: Record<string, string>;
  reversesTransferId?: string;
  holdId?: string;
  batchId?: string;
  screeningId?: string;
  sealedCounterparty?: { kekId: string; wrappedDek: Uint8Array; ciphertext: Uint8Array };
}

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

/**
 * Changes to locked accounts' cached balances, applied to the in-memory rows at once (so the next funds check of
 * the same transaction sees them) and written by `applyDeltas` in one statement.
 */
export class BalanceDeltas {
  private readonly byId = new Map<string, { id: string; balance: bigint; held: bigint; n: bigint }>();

  adjust(account: LedgerAccount, delta: { balance?: bigint; held?: bigint }): void {
    const balance = delta.balance ?? 0n;
    const held = delta.held ?? 0n;
    account.balanceMinor += balance;
    account.heldMinor += held;
    account.version += 1n;
    const row = this.byId.get(account.id) ?? { id: account.id, balance: 0n, held: 0n, n: 0n };
    row.balance += balance;
    row.held += held;
    row.n += 1n;
    this.byId.set(account.id, row);
  }

  /** A posted transfer: debit `source`, credit `destination`. */
  post(source: LedgerAccount, destination: LedgerAccount, amountMinor: bigint): void {
    this.adjust(source, { balance: -amountMinor });
    this.adjust(destination, { balance: amountMinor });
  }

  rows(): { id: string; balance: bigint; held: bigint; n: bigint }[] {
    return [...this.byId.values()];
  }
}

const TRANSFER_LINKS = { reversedBy: { select: { id: true } } } as const;
const HOLD_LINKS = { capture: { select: { id: true } } } as const;

/**
 * The Prisma side of the ledger. Every write runs inside the caller's transaction and after the caller
 * locked the accounts it touches (`lockAccounts`), so cached balances never race.
 */
@Injectable()
export class LedgerRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * SELECT .. FOR UPDATE on the accounts, in ascending id order: two transactions touching the same
   * accounts queue in the same order, so they cannot deadlock on each other.
   */
  async lockAccounts(tx: Tx, ids: Iterable<string>): Promise<Map<string, LedgerAccount>> {
    const wanted = [...new Set(ids)].sort();
    const rows = await tx.$queryRaw<
      { id: string; owner_id: string; currency: string; status: LedgerAccount['status']; balance_minor: bigint; held_minor: bigint; overdraft_limit_minor: bigint; version: bigint }[]
    >`SELECT id::text, owner_id, currency, status::text AS status, balance_minor, held_minor, overdraft_limit_minor, version
        FROM accounts WHERE id = ANY(${wanted}::uuid[]) ORDER BY id FOR UPDATE`;
    const byId = new Map<string, LedgerAccount>();
    for (const r of rows) {
      byId.set(r.id, {
        id: r.id,
        ownerId: r.owner_id,
        currency: r.currency,
        status: r.status,
        balanceMinor: BigInt(r.balance_minor),
        heldMinor: BigInt(r.held_minor),
        overdraftLimitMinor: BigInt(r.overdraft_limit_minor),
        version: BigInt(r.version),
      });
    }
    for (const id of wanted) if (!byId.has(id)) throw ledgerErrors.accountNotFound(id);
    return byId;
  }

  /** Unlocked read for early validation before screening; the transaction re-checks under lock. */
  async readAccounts(ids: Iterable<string>): Promise<Map<string, LedgerAccount>> {
    const wanted = [...new Set(ids)];
    const byId = await this.readExistingAccounts(wanted);
    for (const id of wanted) if (!byId.has(id)) throw ledgerErrors.accountNotFound(id);
    return byId;
  }

  /** `readAccounts` without the not-found check: the accounts of `ids` that exist. */
  async readExistingAccounts(ids: Iterable<string>): Promise<Map<string, LedgerAccount>> {
    const rows = await this.prisma.client.account.findMany({ where: { id: { in: [...new Set(ids)] } } });
    return new Map<string, LedgerAccount>(rows.map((r) => [r.id, { ...r }]));
  }

  /** Applies balance/held deltas to a locked account and mirrors them on the in-memory copy. */
  async adjust(tx: Tx, account: LedgerAccount, delta: { balance?: bigint; held?: bigint }): Promise<void> {
    const deltas = new BalanceDeltas();
    deltas.adjust(account, delta);
    await this.applyDeltas(tx, deltas);
  }

  async setAccountStatus(tx: Tx, account: LedgerAccount, status: LedgerAccount['status']): Promise<void> {
    await tx.$executeRaw`UPDATE accounts SET status = ${status}::account_status, version = version + 1, updated_at = now() WHERE id = ${account.id}::uuid`;
    account.status = status;
    account.version += 1n;
  }

  /**
   * Every path that creates a transfer (direct, batch, reversal, hold capture) ends here, so the trace id of
   * the active span (the creating request's) is recorded once, here, for the console's trace link.
   */
  async insertTransfer(tx: Tx, t: NewTransfer, postedAt?: Date): Promise<Transfer> {
    const [transfer] = await this.insertTransfers(tx, [{ transfer: t, ...(postedAt ? { postedAt } : {}) }]);
    if (!transfer) throw new Error('insertTransfers returned nothing');
    return transfer;
  }

  /** Several transfers in one INSERT (a batch costs one statement, not one per transfer), in the given order. */
  async insertTransfers(tx: Tx, items: { transfer: NewTransfer; postedAt?: Date }[]): Promise<Transfer[]> {
    // Millisecond precision set here (not now() in SQL) so the keyset cursor round-trips exactly.
    const createdAt = new Date();
    const traceId = activeTraceId() || null;
    // createMany: one INSERT without RETURNING or the relation read-back of create({ include }); the new rows are
    // exactly what was written, and nothing can reverse a transfer that did not exist a statement ago.
    const rows = items.map(({ transfer: t, postedAt }) => ({
      id: t.id,
      kind: t.kind,
      sourceAccountId: t.sourceAccountId,
      destinationAccountId: t.destinationAccountId,
      amountMinor: t.amountMinor,
      currency: t.currency,
      status: t.status,
      rejectionCode: t.rejectionCode ?? null,
      description: t.description,
      reference: t.reference === '' ? null : t.reference,
      labels: t.labels,
      reversesTransferId: t.reversesTransferId ?? null,
      holdId: t.holdId ?? null,
      batchId: t.batchId ?? null,
      screeningId: t.screeningId ?? null,
      counterpartyKekId: t.sealedCounterparty?.kekId ?? null,
      counterpartyWrappedDek: t.sealedCounterparty ? new Uint8Array(t.sealedCounterparty.wrappedDek) : null,
      counterpartyCiphertext: t.sealedCounterparty ? new Uint8Array(t.sealedCounterparty.ciphertext) : null,
      traceId,
      postedAt: postedAt ?? null,
      createdAt,
    }));
    const set = writeSetOf(tx);
    if (set) set.transfers.push(...rows.map(transferRowOf));
    else await tx.transfer.createMany({ data: rows });
    // The written transfer as the domain sees it: the instruction's own fields (the sealed counterparty stays sealed).
    return items.map(({ transfer: { sealedCounterparty: _sealed, ...fields }, postedAt }) => ({
      ...fields,
      // Optional on an instruction, always present (maybe undefined) on a Transfer.
      rejectionCode: fields.rejectionCode,
      reversesTransferId: fields.reversesTransferId,
      holdId: fields.holdId,
      batchId: fields.batchId,
      screeningId: fields.screeningId,
      reversedByTransferId: undefined,
      traceId: traceId ?? undefined,
      createdAt,
      postedAt,
    }));
  }

  /** The two legs (debit source, credit destination) plus the cached balances; the DB trigger checks zero-sum. */
  async writePostings(tx: Tx, transfer: Pick<Transfer, 'id' | 'amountMinor' | 'currency'>, source: LedgerAccount, destination: LedgerAccount): Promise<void> {
    const deltas = new BalanceDeltas();
    deltas.post(source, destination, transfer.amountMinor);
    await this.insertPostings(tx, [{ transfer, sourceId: source.id, destinationId: destination.id }]);
    await this.applyDeltas(tx, deltas);
  }

  /** The legs of several transfers in one INSERT; the deferred trigger checks each transfer sums to zero at COMMIT. */
  async insertPostings(tx: Tx, legs: { transfer: Pick<Transfer, 'id' | 'amountMinor' | 'currency'>; sourceId: string; destinationId: string }[]): Promise<void> {
    if (legs.length === 0) return;
    for (const l of legs) if (l.sourceId === l.destinationId) throw new Error('insertPostings: source and destination are the same account (validation refuses this)');
    const set = writeSetOf(tx);
    if (set) {
      for (const { transfer, sourceId, destinationId } of legs) {
        const leg = { transferId: transfer.id, currency: transfer.currency, amountMinor: transfer.amountMinor.toString() };
        set.postings.push({ ...leg, accountId: sourceId, direction: 'DEBIT' }, { ...leg, accountId: destinationId, direction: 'CREDIT' });
      }
      return;
    }
    await tx.posting.createMany({
      data: legs.flatMap(({ transfer, sourceId, destinationId }) => [
        { transferId: transfer.id, accountId: sourceId, currency: transfer.currency, direction: 'DEBIT' as const, amountMinor: transfer.amountMinor },
        { transferId: transfer.id, accountId: destinationId, currency: transfer.currency, direction: 'CREDIT' as const, amountMinor: transfer.amountMinor },
      ]),
    });
  }

  /** Every cached balance/held change of the transaction in one UPDATE (the rows are already locked). */
  async applyDeltas(tx: Tx, deltas: BalanceDeltas): Promise<void> {
    const rows = deltas.rows();
    if (rows.length === 0) return;
    const set = writeSetOf(tx);
    if (set) {
      set.deltas.push(...rows.map((r) => ({ id: r.id, balance: r.balance.toString(), held: r.held.toString(), n: r.n.toString() })));
      return;
    }
    await tx.$executeRaw`UPDATE accounts AS a SET balance_minor = a.balance_minor + d.balance, held_minor = a.held_minor + d.held,
        version = a.version + d.n, updated_at = now()
        FROM unnest(${rows.map((r) => r.id)}::uuid[], ${rows.map((r) => r.balance.toString())}::bigint[], ${rows.map((r) => r.held.toString())}::bigint[],
                    ${rows.map((r) => r.n.toString())}::bigint[]) AS d(id, balance, held, n)
        WHERE a.id = d.id`;
  }

  async updateTransferStatus(tx: Tx, id: string, status: TransferStatus, extra: { rejectionCode?: string; postedAt?: Date } = {}): Promise<Transfer> {
    const row = await tx.transfer.update({
      where: { id },
      data: { status, ...(extra.rejectionCode ? { rejectionCode: extra.rejectionCode } : {}), ...(extra.postedAt ? { postedAt: extra.postedAt } : {}) },
      include: TRANSFER_LINKS,
    });
    return toTransfer(row);
  }

  /** Locks one transfer row (its status is about to change); NOT_FOUND if absent. */
  async lockTransfer(tx: Tx, id: string): Promise<Transfer> {
    const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id::text FROM transfers WHERE id = ${id}::uuid FOR UPDATE`;
    if (locked.length === 0) throw ledgerErrors.transferNotFound(id);
    return this.transferIn(tx, id);
  }

  async transferIn(tx: Tx, id: string): Promise<Transfer> {
    const row = await tx.transfer.findUnique({ where: { id }, include: TRANSFER_LINKS });
    if (!row) throw ledgerErrors.transferNotFound(id);
    return toTransfer(row);
  }

  async findTransfer(id: string): Promise<Transfer | undefined> {
    const row = await this.prisma.client.transfer.findUnique({ where: { id }, include: TRANSFER_LINKS });
    return row ? toTransfer(row) : undefined;
  }

  /** Newest first, keyset on (created_at, id) descending. */
  async listTransfers(
    filter: { accountId?: string; ownerId?: string; status?: TransferStatus; batchId?: string },
    pageSize: number,
    before?: { createdAt: Date; id: string },
  ): Promise<Transfer[]> {
    const rows = await this.prisma.client.transfer.findMany({
      where: {
        AND: [
          filter.accountId ? { OR: [{ sourceAccountId: filter.accountId }, { destinationAccountId: filter.accountId }] } : {},
          filter.ownerId !== undefined ? { OR: [{ source: { ownerId: filter.ownerId } }, { destination: { ownerId: filter.ownerId } }] } : {},
          filter.status ? { status: filter.status } : {},
          filter.batchId ? { batchId: filter.batchId } : {},
          before ? { OR: [{ createdAt: { lt: before.createdAt } }, { createdAt: before.createdAt, id: { lt: before.id } }] } : {},
        ],
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: pageSize,
      include: TRANSFER_LINKS,
    });
    return rows.map(toTransfer);
  }

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

function toTransfer(row: TransferRow & { reversedBy: { id: string } | null }): Transfer {
  return {
    id: row.id,
    kind: row.kind,
    sourceAccountId: row.sourceAccountId,
    destinationAccountId: row.destinationAccountId,
    amountMinor: row.amountMinor,
    currency: row.currency,
    status: row.status,
    rejectionCode: row.rejectionCode ?? undefined,
    description: row.description,
    reference: row.reference ?? '',
    labels: (row.labels ?? {}) as Record<string, string>,
    reversesTransferId: row.reversesTransferId ?? undefined,
    reversedByTransferId: row.reversedBy?.id,
    holdId: row.holdId ?? undefined,
    batchId: row.batchId ?? undefined,
    screeningId: row.screeningId ?? undefined,
    traceId: row.traceId ?? undefined,
    createdAt: row.createdAt,
    postedAt: row.postedAt ?? undefined,
  };
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
