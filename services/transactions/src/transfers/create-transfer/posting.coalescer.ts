import { AsyncLocalStorage } from 'node:async_hooks';
import { Inject, Injectable } from '@nestjs/common';
import { paymentsV1 } from '@tessera/contracts';
import { Coalescer } from '@tessera/db';
import { type AppError, databaseUnavailable } from '@tessera/errors';
import type { Screening } from '../../compliance-client/screening';
import { type TransactionsConfig, TRANSACTIONS_CONFIG } from '../../config';
import type { Prisma } from '../../generated/prisma/client';
import { HoldExpiry } from '../../holds/hold-expiry';
import { type IdempotentCall, IdempotencyStore, type IdempotentResult, isDefiniteRefusal } from '../../idempotency/idempotency';
import type { ValidInstruction } from '../transfer';
import { transferToProto } from '../transfer.mapping';
import { TransferPoster } from '../transfer.poster';
import type { Sealed } from '../../pii/pii-vault';

type Response = paymentsV1.CreateTransferResponse;

/** One screened transfer to post, with the request it belongs to. */
export interface PostingRequest {
  call: IdempotentCall<Response> & { refusals: NonNullable<IdempotentCall<Response>['refusals']> };
  id: string;
  instruction: ValidInstruction;
  screening: Screening;
  sealedCounterparty?: Sealed;
}

interface Item extends PostingRequest {
  /** Runs a function in the request's async context: its caller (audit actor), trace (transfer trace id, outbox traceparent). */
  inContext: <T>(fn: () => T) => T;
}

/**
 * Posts screened single transfers, coalescing the ones that arrive together into ONE database transaction (issue #10):
 * a transfer that finds a posting slot free runs at once, alone; transfers that arrive while
 * TRANSACTIONS_POST_IN_FLIGHT transactions are running wait and go together in the next (at most
 * TRANSACTIONS_POST_COALESCE_MAX). One transaction claims their keys, locks their accounts once (in id order), applies
 * them in arrival order on the locked balances, each seeing the ones before it, and writes everything in one
 * statement: the per-transaction costs (BEGIN, claim, lock, write, COMMIT and its WAL flush, the hot account's row lock)
 * are paid once per group instead of once per transfer.
 *
 * Nothing changes for a transfer but its neighbours in the commit: it is decided exactly as if posted alone after the
 * ones before it; a definite refusal (insufficient funds, a frozen account) refuses that transfer only and is stored
 * under its key; its audit records carry its own caller, its event its own trace. A transfer whose key another attempt
 * holds or committed, or that repeats a key already in the group, runs alone afterwards and replays. When the group's
 * transaction fails as a whole for anything but an unavailable database, each of its transfers runs alone, so one bad
 * transfer cannot fail the others.
 */
@Injectable()
export class PostingCoalescer {
  private readonly coalescer: Coalescer<Item, IdempotentResult<Response>>;

  constructor(
    private readonly idempotency: IdempotencyStore,
    private readonly poster: TransferPoster,
    private readonly holdExpiry: HoldExpiry,
    @Inject(TRANSACTIONS_CONFIG) config: Pick<TransactionsConfig, 'TRANSACTIONS_POST_COALESCE_MAX' | 'TRANSACTIONS_POST_IN_FLIGHT'>,
  ) {
    this.coalescer = new Coalescer({
      maxBatch: config.TRANSACTIONS_POST_COALESCE_MAX,
      maxInFlight: config.TRANSACTIONS_POST_IN_FLIGHT,
      run: (items) => this.postTogether(items),
    });
  }

  /** The transfer posted (or replayed), or its definite refusal thrown. */
  post(request: PostingRequest): Promise<IdempotentResult<Response>> {
    return this.coalescer.submit({ ...request, inContext: AsyncLocalStorage.snapshot() });
  }

  private async postTogether(items: readonly Item[]): Promise<Array<IdempotentResult<Response> | Error>> {
    const results: Array<IdempotentResult<Response> | Error | undefined> = items.map(() => undefined);
    const alone = (i: number) => {
      const item = items[i] as Item;
      return item.inContext(() => this.postAlone(item)).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
    };
    const keys = new Set<string>();
    const group = items.flatMap((item, i) => (keys.has(item.call.key) ? [] : (keys.add(item.call.key), [i])));
    if (group.length === 1) {
      results[group[0] as number] = await alone(group[0] as number);
    } else {
      try {
        const outcomes = await this.idempotency.transactMany(
          group.map((i) => (items[i] as Item).call),
          (tx, owned) =>
            this.apply(
              tx,
              owned.map((n) => items[group[n] as number] as Item),
            ),
        );
        group.forEach((i, n) => (results[i] = outcomes[n]));
      } catch (err) {
        const unavailable = databaseUnavailable(err);
        if (unavailable) for (const i of group) results[i] = unavailable;
      }
    }
    // Repeated keys, keys held or committed elsewhere, and the group's transfers when it failed as a whole: alone.
    const rest = results.flatMap((r, i) => (r === undefined ? [i] : []));
    for (const i of rest) results[i] = await alone(i);
    return results as Array<IdempotentResult<Response> | Error>;
  }

  /** The owned transfers on their locked accounts, in order: each its transfer or its audited definite refusal. */
  private async apply(
    tx: Prisma.TransactionClient,
    owned: readonly Item[],
  ): Promise<Array<{ response: Response; transferId: string } | AppError>> {
    const locked = await this.holdExpiry.lockAndRelease(
      tx,
      owned.flatMap((t) => [t.instruction.sourceAccountId, t.instruction.destinationAccountId]),
    );
    const outcomes: Array<{ response: Response; transferId: string } | AppError> = [];
    for (const item of owned) {
      try {
        const transfer = await item.inContext(() => this.poster.applyDirect(tx, locked, direct(item)));
        outcomes.push({ response: { transfer: transferToProto(transfer) }, transferId: transfer.id });
      } catch (err) {
        // The poster checks everything before it changes a balance, so a refused transfer left nothing behind.
        if (!isDefiniteRefusal(err)) throw err;
        await item.inContext(() => item.call.refusals.audit(tx, err));
        outcomes.push(err);
      }
    }
    return outcomes;
  }

  /** One transfer in its own transaction (the path every transfer took before coalescing). */
  private postAlone(item: Item): Promise<IdempotentResult<Response>> {
    return this.idempotency.transact(item.call, async (tx) => {
      const locked = await this.holdExpiry.lockAndRelease(tx, [item.instruction.sourceAccountId, item.instruction.destinationAccountId]);
      const transfer = await this.poster.applyDirect(tx, locked, direct(item));
      return { response: { transfer: transferToProto(transfer) }, transferId: transfer.id };
    });
  }
}

function direct(item: Item) {
  return {
    id: item.id,
    instruction: item.instruction,
    screening: item.screening,
    movementKind: 'transfer' as const,
    ...(item.sealedCounterparty ? { sealedCounterparty: item.sealedCounterparty } : {}),
  };
}
