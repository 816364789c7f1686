import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { paymentsV1 } from '@tessera/contracts';
import { withSerializableRetry } from '@tessera/db';
import { createLogger } from '@tessera/telemetry';
import { type TransactionsConfig, TRANSACTIONS_CONFIG } from '../config';
import type { Prisma } from '../generated/prisma/client';
import type { LockedAccount } from '../ledger/account';
import { LEDGER_TX_OPTIONS } from '../idempotency/idempotency';
import { ledgerErrors } from '../ledger/ledger.errors';
import { LedgerJournal } from '../journal/ledger-journal';
import { LedgerRepository } from '../ledger/ledger.repository';
import { PrismaService } from '../platform/prisma.provider';
import { holdToProto } from './hold.mapping';
import { HoldRepository } from './hold.repository';

const SWEEP_BATCH = 200;
const SYSTEM_ACTOR = 'system:hold-expiry';

/**
 * Expired holds give their funds back. Every ledger transaction calls `releaseDue` right after locking
 * its accounts (lazy: nobody sees funds reserved by a dead hold), and a periodic sweep releases the rest
 * so balances read through GetBalance/ListAccounts converge even on idle accounts.
 */
@Injectable()
export class HoldExpiry implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = createLogger('HoldExpiry');
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;

  constructor(
    @Inject(TRANSACTIONS_CONFIG) private readonly config: TransactionsConfig,
    private readonly ledger: LedgerRepository,
    private readonly holds: HoldRepository,
    private readonly journal: LedgerJournal,
    private readonly prisma: PrismaService,
  ) {}

  /**
   * Locks the accounts (ascending id order, `LedgerRepository.lockAccounts`) and releases their expired holds first, so
   * the caller sees what they really hold: how every ledger write that moves or reserves money starts.
   */
  async lockAndRelease(tx: Prisma.TransactionClient, ids: Iterable<string>, now = new Date()): Promise<Map<string, LockedAccount>> {
    const locked = await this.ledger.lockAccounts(tx, ids);
    await this.releaseDue(tx, locked, now);
    return locked;
  }

  /** Releases the expired holds of these accounts, which the caller has locked. */
  async releaseDue(tx: Prisma.TransactionClient, accounts: Map<string, LockedAccount>, now = new Date()): Promise<number> {
    // An AUTHORIZED hold reserves its amount in held_minor, so accounts holding nothing have no hold to expire:
    // the common case skips the query (one round trip less per transfer).
    if ([...accounts.values()].every((a) => a.heldMinor === 0n)) return 0;
    const due = await this.holds.lockDueHolds(tx, [...accounts.keys()], now);
    for (const hold of due) {
      const account = accounts.get(hold.accountId);
      if (!account) continue;
      const expired = await this.holds.updateHold(tx, hold.id, { status: 'EXPIRED' });
      await this.ledger.adjust(tx, account, { held: -hold.amountMinor });
      await this.journal.record(
        tx,
        {
          action: 'hold.expired',
          entityType: 'hold',
          entityId: hold.id,
          payload: {
            accountId: hold.accountId,
            amountMinor: hold.amountMinor.toString(),
            currency: hold.currency,
            expiresAt: hold.expiresAt.toISOString(),
          },
          event: { key: hold.accountId, message: { hold: holdToProto(expired), reason: 'expired' }, codec: paymentsV1.HoldVoided },
        },
        SYSTEM_ACTOR,
      );
    }
    return due.length;
  }

  /** Lazy expiry: an expired hold is released (its own transaction) before the caller is told it expired. */
  async expireIfDue(holdId: string): Promise<void> {
    const hold = await this.holds.findHold(holdId);
    if (!hold) throw ledgerErrors.holdNotFound(holdId);
    if (hold.status === 'AUTHORIZED' && hold.expiresAt.getTime() <= Date.now()) {
      await this.releaseAccount(hold.accountId);
      throw ledgerErrors.holdExpired(hold.id);
    }
  }

  /** Releases the expired holds of one account in its own transaction. */
  async releaseAccount(accountId: string, now = new Date()): Promise<number> {
    return withSerializableRetry(() =>
      this.prisma.client.$transaction(
        async (tx) => this.releaseDue(tx, await this.ledger.lockAccounts(tx, [accountId]), now),
        LEDGER_TX_OPTIONS,
      ),
    );
  }

  /** One sweep: every account with an expired AUTHORIZED hold, each in its own short transaction. */
  async sweep(now = new Date()): Promise<number> {
    let released = 0;
    for (const accountId of await this.holds.accountsWithDueHolds(now, SWEEP_BATCH)) {
      released += await this.releaseAccount(accountId, now);
    }
    return released;
  }

  onApplicationBootstrap(): void {
    const interval = this.config.TRANSACTIONS_HOLD_SWEEP_INTERVAL_MS;
    if (interval <= 0) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.sweep().catch((err: unknown) => {
        this.logger.warn({ err }, 'hold expiry sweep failed; next tick retries');
        return 0;
      });
      void this.running.finally(() => (this.running = undefined));
    }, interval);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
