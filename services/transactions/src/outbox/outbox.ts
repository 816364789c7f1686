import { Injectable } from '@nestjs/common';
import { type OutboxEventInput, outboxRows } from '@tessera/outbox';
import type { Prisma } from '../generated/prisma/client';
import { writeSetOf } from '../ledger/write-set';

/** `source` of every envelope this service writes. */
export const OUTBOX_SOURCE = 'transactions';

export type { OutboxEventInput };

/**
 * Transactional outbox (@tessera/outbox): stores an event in the caller's transaction so it exists exactly when the
 * state change commits; the relay (outbox-relay.ts) publishes it later.
 */
@Injectable()
export class Outbox {
  /** One event; see `enqueueMany`. */
  async enqueue<T>(tx: Prisma.TransactionClient, event: OutboxEventInput<T>): Promise<{ eventId: string }> {
    const [eventId] = await this.enqueueMany(tx, [event as OutboxEventInput<unknown>]);
    return { eventId: eventId ?? '' };
  }

  /**
   * Several events in one INSERT, in order (`seq` follows the row order, so the relay publishes them in it); inside a
   * ledger write set (write-set.ts), queued to its single statement instead.
   */
  async enqueueMany(tx: Prisma.TransactionClient, events: OutboxEventInput<unknown>[]): Promise<string[]> {
    if (events.length === 0) return [];
    const rows = outboxRows(OUTBOX_SOURCE, events);
    const set = writeSetOf(tx);
    if (set) set.outbox.push(...rows.map((r) => ({ ...r, payload: Buffer.from(r.payload).toString('base64') })));
    else await tx.outboxEvent.createMany({ data: rows });
    return rows.map((r) => r.id);
  }
}
