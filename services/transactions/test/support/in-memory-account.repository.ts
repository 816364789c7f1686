import { randomUUID } from 'node:crypto';
import type { Account } from '../../src/ledger/account';
import type { AccountStatus } from '../../src/ledger/account';
import type { AccountRepository, NewAccount } from '../../src/accounts/account.repository';

type Filter = Parameters<AccountRepository['list']>[0];

/**
 * An in-memory stand-in for AccountRepository in unit tests, with the same keyset ordering
 * (created_at, id) and idempotency semantics, and a log of list() calls.
 */
export class InMemoryAccountRepository implements Pick<AccountRepository, 'openOnce' | 'findById' | 'list'> {
  readonly accounts: Account[] = [];
  readonly listCalls: { filter: Filter; pageSize: number; after?: { createdAt: Date; id: string } }[] = [];
  private readonly keys = new Map<string, { fingerprint: string; id: string }>();

  async openOnce(key: string, fingerprint: string, account: NewAccount): Promise<{ account: Account; replayed: boolean }> {
    const first = this.keys.get(key);
    if (first) {
      if (first.fingerprint !== fingerprint) throw new Error('idempotency key reused');
      const existing = this.accounts.find((a) => a.id === first.id);
      if (!existing) throw new Error('idempotency key points at no account');
      return { account: existing, replayed: true };
    }
    const created = this.add(account);
    this.keys.set(key, { fingerprint, id: created.id });
    return { account: created, replayed: false };
  }

  async findById(id: string): Promise<Account | undefined> {
    return this.accounts.find((a) => a.id === id);
  }

  async list(filter: Filter, pageSize: number, after?: { createdAt: Date; id: string }): Promise<Account[]> {
    this.listCalls.push({ filter, pageSize, ...(after ? { after } : {}) });
    return this.accounts
      .filter((a) => !filter.ownerId || a.ownerId === filter.ownerId)
      .filter((a) => !filter.status || a.status === filter.status)
      .filter((a) => !filter.currency || a.currency === filter.currency)
      .filter((a) => !after || a.createdAt > after.createdAt || (a.createdAt.getTime() === after.createdAt.getTime() && a.id > after.id))
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id))
      .slice(0, pageSize);
  }

  /** Adds an account directly (test setup); `createdAt` defaults to now. */
  add(account: Partial<NewAccount> & { createdAt?: Date; status?: AccountStatus; id?: string } = {}): Account {
    const created: Account = {
      id: account.id ?? randomUUID(),
      ownerId: account.ownerId ?? 'cust-1',
      name: account.name ?? '',
      type: account.type ?? 'ASSET',
      currency: account.currency ?? 'EUR',
      status: account.status ?? 'ACTIVE',
      overdraftLimitMinor: account.overdraftLimitMinor ?? 0n,
      balanceMinor: 0n,
      heldMinor: 0n,
      version: 0n,
      labels: account.labels ?? {},
      createdAt: account.createdAt ?? new Date(),
      updatedAt: account.createdAt ?? new Date(),
    };
    this.accounts.push(created);
    return created;
  }

  /** The repository as the handlers' constructors type it. */
  asRepository(): AccountRepository {
    return this as unknown as AccountRepository;
  }
}
