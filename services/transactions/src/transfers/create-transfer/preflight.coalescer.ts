import { Injectable } from '@nestjs/common';
import type { paymentsV1 } from '@tessera/contracts';
import { Coalescer } from '@tessera/db';
import { type IdempotentCall, IdempotencyStore } from '../../idempotency/idempotency';
import type { LockedAccount } from '../../ledger/account';
import { ledgerErrors } from '../../ledger/ledger.errors';
import { LedgerRepository } from '../../ledger/ledger.repository';
import { settleBoth } from '../../ledger/settle';

type Response = paymentsV1.CreateTransferResponse;

/** What a transfer reads before screening: a committed outcome of its key, and its two accounts. */
export type Preflight = [replay: PromiseSettledResult<Response | undefined>, accounts: PromiseSettledResult<Map<string, LockedAccount>>];

interface Item {
  call: IdempotentCall<Response>;
  accountIds: readonly string[];
}

/** Reads running at once; a read is two short queries, so a few cover the pool-sized bursts of the bench. */
const READS_IN_FLIGHT = 4;
const MAX_READS = 64;

/**
 * The unlocked reads of CreateTransfer before screening (is the key already answered? do the accounts exist, are they
 * active, in the currency?), coalesced like the screening and the posting: transfers that arrive while READS_IN_FLIGHT
 * reads are out share the next one, which is two queries (the keys, the accounts), run in parallel, for all of them
 * (issue #10: these reads were two round trips per transfer, 44% of the service's socket writes under load). Each
 * transfer gets what `IdempotencyStore.peek` and `LedgerRepository.readAccounts` would have given it alone.
 */
@Injectable()
export class PreflightCoalescer {
  private readonly coalescer = new Coalescer<Item, Preflight>({
    maxBatch: MAX_READS,
    maxInFlight: READS_IN_FLIGHT,
    run: (items) => this.readTogether(items),
  });

  constructor(
    private readonly idempotency: IdempotencyStore,
    private readonly ledger: LedgerRepository,
  ) {}

  read(call: IdempotentCall<Response>, accountIds: readonly string[]): Promise<Preflight> {
    return this.coalescer.submit({ call, accountIds });
  }

  private async readTogether(items: readonly Item[]): Promise<Preflight[]> {
    const [keys, accounts] = await settleBoth(
      this.idempotency.peekMany(items.map((i) => i.call)),
      this.ledger.readExistingAccounts(items.flatMap((i) => i.accountIds)),
    );
    return Promise.all(
      items.map(async (item, n) => {
        const replay = keys.status === 'fulfilled' ? (keys.value[n] as () => Promise<Response | undefined>)() : Promise.reject(keys.reason);
        const own =
          accounts.status === 'fulfilled'
            ? Promise.resolve().then(() => accountsOf(accounts.value, item.accountIds))
            : Promise.reject(accounts.reason);
        return settleBoth(replay, own);
      }),
    );
  }
}

/** The item's own copies of its accounts, or ACCOUNT_NOT_FOUND for the first one missing. */
function accountsOf(all: ReadonlyMap<string, LockedAccount>, ids: readonly string[]): Map<string, LockedAccount> {
  const own = new Map<string, LockedAccount>();
  for (const id of ids) {
    const account = all.get(id);
    if (!account) throw ledgerErrors.accountNotFound(id);
    own.set(id, { ...account });
  }
  return own;
}
