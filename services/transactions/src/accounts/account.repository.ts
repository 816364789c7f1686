import { Injectable } from '@nestjs/common';
import { paymentsV1 } from '@tessera/contracts';
import { randomUUID } from 'node:crypto';
import type { Prisma } from '../generated/prisma/client';
import type { Account as AccountRow } from '../generated/prisma/client';
import { LedgerJournal } from '../journal/ledger-journal';
import { callerScope, IdempotencyStore } from '../idempotency/idempotency';
import { PiiVault } from '../pii/pii-vault';
import { PrismaService } from '../platform/prisma.provider';
import type { Account, AccountType } from '../ledger/account';
import type { AccountHolderData } from './account';
import type { AccountStatus } from '../ledger/account';
import { accountCodec, toProto } from './account.mapping';

const OPEN_ACCOUNT_SCOPE = 'payments.OpenAccount';

export interface NewAccount {
  ownerId: string;
  name: string;
  type: AccountType;
  currency: string;
  overdraftLimitMinor: bigint;
  labels: Record<string, string>;
  holder?: AccountHolderData;
}

/** The Prisma side of accounts; Prisma types stop here. */
@Injectable()
export class AccountRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly journal: LedgerJournal,
    private readonly pii: PiiVault,
    private readonly idempotency: IdempotencyStore,
  ) {}

  /**
   * Opens an account exactly once per idempotency key through IdempotencyStore: key, account, sealed
   * holder, audit record and AccountOpened event (LedgerJournal, as every other change) commit together; retries replay
   * the stored account bytes.
   */
  async openOnce(key: string, fingerprint: string, account: NewAccount): Promise<{ account: Account; replayed: boolean }> {
    const call = {
      scope: callerScope(OPEN_ACCOUNT_SCOPE),
      key,
      fingerprint,
      codec: accountCodec,
      // Keys committed before responses were stored hold only the account id.
      legacy: async (id: string) => toDomain(await this.prisma.client.account.findUniqueOrThrow({ where: { id } })),
      // The audit record, the AccountOpened event and the key's response go in one statement at the end, and the audit
      // chain's lock is taken at COMMIT only (AuditTrail.record on a deferring transaction): `append` took it mid-way
      // and held it over three more round trips, which serialised every opening at ~150/s (issue #12).
      oneWriteStatement: true,
    };
    const result = await this.idempotency.transact(call, async (tx) => {
      const id = randomUUID();
      const row = await tx.account.create({
        data: {
          id,
          ownerId: account.ownerId,
          name: account.name,
          type: account.type,
          currency: account.currency,
          overdraftLimitMinor: account.overdraftLimitMinor,
          labels: account.labels,
        },
      });
      const opened = toDomain(row);
      // Holder PII, audit record and AccountOpened event commit with the account or not at all.
      if (account.holder) {
        const sealed = this.pii.seal(account.holder);
        await tx.accountHolder.create({
          data: {
            accountId: id,
            kekId: sealed.kekId,
            wrappedDek: new Uint8Array(sealed.wrappedDek),
            ciphertext: new Uint8Array(sealed.ciphertext),
          },
        });
      }
      await this.journal.record(tx, {
        action: 'account.opened',
        entityType: 'account',
        entityId: id,
        payload: {
          ownerId: opened.ownerId,
          type: opened.type,
          currency: opened.currency,
          overdraftLimitMinor: opened.overdraftLimitMinor,
          holderSealed: Boolean(account.holder),
        },
        event: { key: id, message: paymentsV1.AccountOpened.fromPartial({ account: toProto(opened) }), codec: paymentsV1.AccountOpened },
      });
      return { response: opened, resourceId: id };
    });
    return { account: result.response, replayed: result.replayed };
  }

  /** Reads an account inside the caller's transaction (after it changed it). */
  async findIn(tx: Prisma.TransactionClient, id: string): Promise<Account> {
    return toDomain(await tx.account.findUniqueOrThrow({ where: { id } }));
  }

  /**
   * GetAccount's read, the edge benchmark's route: through node-postgres as a named (prepared) statement, not Prisma.
   * Prisma's query compiler and row mapping cost ~200 µs of this service's CPU per read and PostgreSQL parsed and planned
   * its unnamed statement every time (~280 µs of PostgreSQL's CPU per read against ~45 for a prepared one; issue #12).
   */
  async findById(id: string): Promise<Account | undefined> {
    const { rows } = await this.prisma.pool.query<AccountReadRow>({
      name: 'transactions.account-by-id',
      text: ACCOUNT_BY_ID,
      values: [id],
    });
    const r = rows[0];
    if (!r) return undefined;
    return {
      id: r.id,
      ownerId: r.ownerId,
      name: r.name,
      type: r.type,
      currency: r.currency,
      status: r.status,
      overdraftLimitMinor: BigInt(r.overdraftLimitMinor),
      balanceMinor: BigInt(r.balanceMinor),
      heldMinor: BigInt(r.heldMinor),
      version: BigInt(r.version),
      labels: (r.labels ?? {}) as Record<string, string>,
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
    };
  }

  /** Keyset pagination on (created_at, id): stable under concurrent inserts, no OFFSET scans. */
  async list(
    filter: { ownerId?: string; status?: AccountStatus; currency?: string },
    pageSize: number,
    after?: { createdAt: Date; id: string },
  ): Promise<Account[]> {
    const rows = await this.prisma.client.account.findMany({
      where: {
        ...(filter.ownerId ? { ownerId: filter.ownerId } : {}),
        ...(filter.status ? { status: filter.status } : {}),
        ...(filter.currency ? { currency: filter.currency } : {}),
        ...(after ? { OR: [{ createdAt: { gt: after.createdAt } }, { createdAt: after.createdAt, id: { gt: after.id } }] } : {}),
      },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: pageSize,
    });
    return rows.map(toDomain);
  }
}

const ACCOUNT_BY_ID = `SELECT id, owner_id AS "ownerId", name, type::text AS type, currency, status::text AS status,
  overdraft_limit_minor::text AS "overdraftLimitMinor", balance_minor::text AS "balanceMinor", held_minor::text AS "heldMinor", version::text AS version, labels, created_at AS "createdAt", updated_at AS "updatedAt"
  FROM accounts WHERE id = $1`;

/** ACCOUNT_BY_ID's row: bigints as text (node-postgres returns int8 as a string anyway), enums as their labels. */
interface AccountReadRow {
  id: string;
  ownerId: string;
  name: string;
  type: Account['type'];
  currency: string;
  status: Account['status'];
  overdraftLimitMinor: string;
  balanceMinor: string;
  heldMinor: string;
  version: string;
  labels: unknown;
  createdAt: Date;
  updatedAt: Date;
}

function toDomain(row: AccountRow): Account {
  return {
    id: row.id,
    ownerId: row.ownerId,
    name: row.name,
    type: row.type,
    currency: row.currency,
    status: row.status,
    overdraftLimitMinor: row.overdraftLimitMinor,
    balanceMinor: row.balanceMinor,
    heldMinor: row.heldMinor,
    version: row.version,
    labels: (row.labels ?? {}) as Record<string, string>,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
