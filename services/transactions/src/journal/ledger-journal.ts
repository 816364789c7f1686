import { Inject, Injectable } from '@nestjs/common';
import { paymentsV1 } from '@tessera/contracts';
import { currentCallContext } from '@tessera/grpc';
import { actorOf } from '@tessera/auth';
import type { AppError } from '@tessera/errors';
import type { MessageCodec } from '@tessera/kafka';
import { AuditTrail } from '../audit/audit-trail';
import type { Prisma } from '../generated/prisma/client';
import { TRANSACTIONS_CONFIG, type TransactionsConfig } from '../config';
import { Outbox } from '../outbox/outbox';

export interface JournalEntry<T> {
  action: string;
  entityType: 'account' | 'transfer' | 'hold' | 'batch';
  entityId: string;
  /** Why and what; never PII (no counterparty names, no holder data). */
  payload: Record<string, unknown>;
  /** The event to publish, keyed by account id so one account's events stay ordered. */
  event?: { key: string; message: T; codec: MessageCodec<T> };
}

/**
 * Audit record + outbox event of a state change, written in the caller's transaction so they commit
 * exactly when the change does. The actor is the verified caller (principal subject, or `service:<cn>`).
 */
@Injectable()
export class LedgerJournal {
  /** Where transfer, hold and account events go (TRANSACTIONS_TRANSFER_EVENTS_TOPIC; the topology's topic by default). */
  private readonly topic: string;

  constructor(
    private readonly audit: AuditTrail,
    private readonly outbox: Outbox,
    @Inject(TRANSACTIONS_CONFIG) config: Pick<TransactionsConfig, 'TRANSACTIONS_TRANSFER_EVENTS_TOPIC'>,
  ) {
    this.topic = config.TRANSACTIONS_TRANSFER_EVENTS_TOPIC;
  }

  actor(): string {
    return actorOf(currentCallContext());
  }

  /**
   * The audit record of a definite refusal whose key is kept for replay (`transfer.refused`, `hold.refused`,
   * `batch.refused`): what was refused, why (the error code) and after which screening. No event: nothing changed.
   */
  async recordRefusal(
    tx: Prisma.TransactionClient,
    entityType: JournalEntry<unknown>['entityType'],
    entityId: string,
    refusal: AppError,
    screeningId: string,
  ): Promise<void> {
    await this.record(tx, {
      action: `${entityType}.refused`,
      entityType,
      entityId,
      payload: {
        code: refusal.code,
        ...(screeningId ? { screeningId } : {}),
        ...(refusal.metadata['accountId'] ? { accountId: refusal.metadata['accountId'] } : {}),
      },
    });
  }

  async record<T>(tx: Prisma.TransactionClient, entry: JournalEntry<T>, actor = this.actor()): Promise<void> {
    await this.recordMany(tx, [entry as JournalEntry<unknown>], actor);
  }

  /** Several entries, in order: their audit records and events cost one statement each, not one per entry. */
  async recordMany(tx: Prisma.TransactionClient, entries: JournalEntry<unknown>[], actor = this.actor()): Promise<void> {
    await this.audit.recordMany(
      tx,
      entries.map((e) => ({ actor, action: e.action, entityType: e.entityType, entityId: e.entityId, payload: e.payload })),
    );
    await this.outbox.enqueueMany(
      tx,
      entries.flatMap((e) =>
        e.event
          ? [
              {
                topic: this.topic,
                key: e.event.key,
                type: `tessera.payments.v1.${typeName(e.event.codec)}`,
                subject: e.entityId,
                message: e.event.message,
                codec: e.event.codec,
              },
            ]
          : [],
      ),
    );
  }
}

/** ts-proto codecs don't carry their type name; the journal's callers pass one of these named codecs. */
function typeName(codec: unknown): string {
  const name = EVENT_NAMES.get(codec);
  if (!name) throw new Error('LedgerJournal: unregistered event codec');
  return name;
}

const EVENT_NAMES = new Map<unknown, string>([
  [paymentsV1.TransferCreated, 'TransferCreated'],
  [paymentsV1.TransferReversed, 'TransferReversed'],
  [paymentsV1.TransferReleased, 'TransferReleased'],
  [paymentsV1.TransferDeclined, 'TransferDeclined'],
  [paymentsV1.HoldAuthorized, 'HoldAuthorized'],
  [paymentsV1.HoldCaptured, 'HoldCaptured'],
  [paymentsV1.HoldVoided, 'HoldVoided'],
  [paymentsV1.AccountOpened, 'AccountOpened'],
  [paymentsV1.AccountFrozen, 'AccountFrozen'],
  [paymentsV1.AccountClosed, 'AccountClosed'],
]);
