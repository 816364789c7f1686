import { Injectable } from '@nestjs/common';
import { paymentsV1 } from '@tessera/contracts';
import { currentCallContext } from '@tessera/grpc';
import { randomUUID } from 'node:crypto';
import { AuditTrail } from '../audit/audit-trail';
import { Prisma } from '../generated/prisma/client';
import type { Account as AccountRow } from '../generated/prisma/client';
import { Outbox } from '../outbox/outbox';
import { PiiVault } from '../pii/pii-vault';
import { PrismaService } from '../platform/prisma.provider';
import type { Account, AccountHolderData, AccountStatus, AccountType } from './account';
import { accountErrors } from './account.errors';
import { toProto } from './account.mapping';

const OPEN_ACCOUNT_SCOPE = 'payments.OpenAccount';
const IDEMPOTENCY_TTL_MS = 7 * 24 * 3600 * 1000;
const ACCOUNT_EVENTS_TOPIC = 'payments.transfer.events.v1';

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
    private readonly audit: AuditTrail,
    private readonly outbox: Outbox,
    private readonly pii: PiiVault,
  ) {}

  /**
   * Opens an account exactly once per idempotency key. The key row is inserted first with
   * ON CONFLICT DO NOTHING: a concurrent request with the same key waits on the row lock, then finds the
   * committed key (READ COMMITTED gives the next statement a fresh snapshot) and replays the first result.
   */
  async openOnce(key: string, fingerprint: string, account: NewAccount): Promise<{ account: Account; replayed: boolean }> {
    return this.prisma.client.$transaction(
      async (tx) => {
        const id = randomUUID();
        const claimed = await tx.idempotencyKey.createMany({
          data: [{ scope: OPEN_ACCOUNT_SCOPE, key, requestHash: fingerprint, resourceId: id, expiresAt: new Date(Date.now() + IDEMPOTENCY_TTL_MS) }],
          skipDuplicates: true,
        });
        if (claimed.count === 0) {
          const first = await tx.idempotencyKey.findUniqueOrThrow({ where: { scope_key: { scope: OPEN_ACCOUNT_SCOPE, key } } });
          if (first.requestHash !== fingerprint || !first.resourceId) throw accountErrors.idempotencyKeyReused();
          const existing = await tx.account.findUniqueOrThrow({ where: { id: first.resourceId } });
          return { account: toDomain(existing), replayed: true };
        }
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
          await tx.accountHolder.create({ data: { accountId: id, kekId: sealed.kekId, wrappedDek: new Uint8Array(sealed.wrappedDek), ciphertext: new Uint8Array(sealed.ciphertext) } });
        }
        await this.audit.append(tx, {
          actor: currentCallContext()?.principal ?? 'anonymous',
          action: 'account.opened',
          entityType: 'account',
          entityId: id,
          payload: { ownerId: opened.ownerId, type: opened.type, currency: opened.currency, overdraftLimitMinor: opened.overdraftLimitMinor, holderSealed: Boolean(account.holder) },
        });
        await this.outbox.enqueue(tx, {
          topic: ACCOUNT_EVENTS_TOPIC,
          key: id,
          type: 'tessera.payments.v1.AccountOpened',
          subject: id,
          message: paymentsV1.AccountOpened.fromPartial({ account: toProto(opened) }),
          codec: paymentsV1.AccountOpened,
        });
        return { account: opened, replayed: false };
      },
      { isolationLevel: Prisma.TransactionIsolationLevel.ReadCommitted },
    );
  }

  /** Reads an account inside the caller's transaction (after it changed it). */
  async findIn(tx: Prisma.TransactionClient, id: string): Promise<Account> {
    return toDomain(await tx.account.findUniqueOrThrow({ where: { id } }));
  }

  async findById(id: string): Promise<Account | undefined> {
    const row = await this.prisma.client.account.findUnique({ where: { id } });
    return row ? toDomain(row) : undefined;
  }

  /** Keyset pagination on (created_at, id): stable under concurrent inserts, no OFFSET scans. */
  async list(filter: { ownerId?: string; status?: AccountStatus; currency?: string }, pageSize: number, after?: { createdAt: Date; id: string }): Promise<Account[]> {
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

function toDomain(row: AccountRow): Account {
  return {
    id: row.id,
    ownerId: row.ownerId,
    name: row.name,
    type: row.type,
    currency: row.currency,
    status: row.status,
    overdraftLimitMinor: row.overdraftLimitMinor,
    version: row.version,
    labels: (row.labels ?? {}) as Record<string, string>,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
