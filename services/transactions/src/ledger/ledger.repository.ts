import { Injectable } from '@nestjs/common';
import type { Prisma } from '../generated/prisma/client';
import { PrismaService } from '../platform/prisma.provider';
import type { LockedAccount } from './account';
import { ledgerErrors } from './ledger.errors';
import { writeSetOf } from './write-set';

type Tx = Prisma.TransactionClient;

/** What a pair of postings needs of the movement they record (a transfer, a capture, a reversal). */
export interface PostedAmount {
  id: string;
  amountMinor: bigint;
  currency: string;
}

/**
 * Changes to locked accounts' cached balances, applied to the in-memory rows at once (so the next funds check of
 * the same transaction sees them) and written by `applyDeltas` in one statement.
 */
export class BalanceDeltas {
  private readonly byId = new Map<string, { id: string; balance: bigint; held: bigint; n: bigint }>();

  adjust(account: LockedAccount, delta: { balance?: bigint; held?: bigint }): void {
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
  post(source: LockedAccount, destination: LockedAccount, amountMinor: bigint): void {
    this.adjust(source, { balance: -amountMinor });
    this.adjust(destination, { balance: amountMinor });
  }

  rows(): { id: string; balance: bigint; held: bigint; n: bigint }[] {
    return [...this.byId.values()];
  }
}

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
  async lockAccounts(tx: Tx, ids: Iterable<string>): Promise<Map<string, LockedAccount>> {
    const wanted = [...new Set(ids)].sort();
    const rows = await tx.$queryRaw<
      {
        id: string;
        owner_id: string;
        currency: string;
        status: LockedAccount['status'];
        balance_minor: bigint;
        held_minor: bigint;
        overdraft_limit_minor: bigint;
        version: bigint;
      }[]
    >`SELECT id::text, owner_id, currency, status::text AS status, balance_minor, held_minor, overdraft_limit_minor, version
        FROM accounts WHERE id = ANY(${wanted}::uuid[]) ORDER BY id FOR UPDATE`;
    const byId = new Map<string, LockedAccount>();
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
  async readAccounts(ids: Iterable<string>): Promise<Map<string, LockedAccount>> {
    const wanted = [...new Set(ids)];
    const byId = await this.readExistingAccounts(wanted);
    for (const id of wanted) if (!byId.has(id)) throw ledgerErrors.accountNotFound(id);
    return byId;
  }

  /** `readAccounts` without the not-found check: the accounts of `ids` that exist. */
  async readExistingAccounts(ids: Iterable<string>): Promise<Map<string, LockedAccount>> {
    const rows = await this.prisma.client.account.findMany({ where: { id: { in: [...new Set(ids)] } } });
    return new Map<string, LockedAccount>(rows.map((r) => [r.id, { ...r }]));
  }

  /** Applies balance/held deltas to a locked account and mirrors them on the in-memory copy. */
  async adjust(tx: Tx, account: LockedAccount, delta: { balance?: bigint; held?: bigint }): Promise<void> {
    const deltas = new BalanceDeltas();
    deltas.adjust(account, delta);
    await this.applyDeltas(tx, deltas);
  }

  async setAccountStatus(tx: Tx, account: LockedAccount, status: LockedAccount['status']): Promise<void> {
    await tx.$executeRaw`UPDATE accounts SET status = ${status}::account_status, version = version + 1, updated_at = now() WHERE id = ${account.id}::uuid`;
    account.status = status;
    account.version += 1n;
  }

  /** The two legs (debit source, credit destination) plus the cached balances; the DB trigger checks zero-sum. */
  async writePostings(tx: Tx, transfer: PostedAmount, source: LockedAccount, destination: LockedAccount): Promise<void> {
    const deltas = new BalanceDeltas();
    deltas.post(source, destination, transfer.amountMinor);
    await this.insertPostings(tx, [{ transfer, sourceId: source.id, destinationId: destination.id }]);
    await this.applyDeltas(tx, deltas);
  }

  /** The legs of several transfers in one INSERT; the deferred trigger checks each transfer sums to zero at COMMIT. */
  async insertPostings(tx: Tx, legs: { transfer: PostedAmount; sourceId: string; destinationId: string }[]): Promise<void> {
    if (legs.length === 0) return;
    for (const l of legs)
      if (l.sourceId === l.destinationId)
        throw new Error('insertPostings: source and destination are the same account (validation refuses this)');
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
        {
          transferId: transfer.id,
          accountId: sourceId,
          currency: transfer.currency,
          direction: 'DEBIT' as const,
          amountMinor: transfer.amountMinor,
        },
        {
          transferId: transfer.id,
          accountId: destinationId,
          currency: transfer.currency,
          direction: 'CREDIT' as const,
          amountMinor: transfer.amountMinor,
        },
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
}
