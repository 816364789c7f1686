import { Injectable } from '@nestjs/common';
import { buildEnvelope, encodeEnvelope, injectTraceContext, type MessageCodec } from '@tessera/kafka';
import type { Prisma } from '../generated/prisma/client';
import { writeSetOf } from '../ledger/write-set';

/** `source` of every envelope this service writes. */
export const OUTBOX_SOURCE = 'transactions';

export interface OutboxEventInput<T> {
  topic: string;
  /** Partition key (e.g. the source account id): one key's events are published in commit order. */
  key: string;
  /** Fully qualified payload type, e.g. `tessera.payments.v1.TransferCreated`. */
  type: string;
  /** Entity the event is about. */
  subject: string;
  message: T;
  codec: MessageCodec<T>;
}

/**
 * Transactional outbox: stores an event in the caller's transaction so it exists exactly when the state
 * change commits; {@link OutboxRelay} publishes it later.
 */
@Injectable()
export class Outbox {
  /**
   * Builds the envelope now (id, time, traceparent of the active span) and stores it encoded, so the
   * relay publishes the same id (consumers dedupe on it) and the trace continues from this request.
   */
  async enqueue<T>(tx: Prisma.TransactionClient, event: OutboxEventInput<T>): Promise<{ eventId: string }> {
    const [eventId] = await this.enqueueMany(tx, [event as OutboxEventInput<unknown>]);
    return { eventId: eventId ?? '' };
  }

  /** Several events in one INSERT, in order (`seq` follows the row order, so the relay publishes them in it). */
  async enqueueMany(tx: Prisma.TransactionClient, events: OutboxEventInput<unknown>[]): Promise<string[]> {
    if (events.length === 0) return [];
    const traceparent = injectTraceContext();
    const rows = events.map((event) => {
      const envelope = buildEnvelope({ type: event.type, subject: event.subject, key: event.key, message: event.message, codec: event.codec }, OUTBOX_SOURCE, traceparent);
      return { id: envelope.id, topic: event.topic, key: event.key, payload: new Uint8Array(encodeEnvelope(envelope)), headers: { type: event.type } };
    });
    const set = writeSetOf(tx);
    if (set) set.outbox.push(...rows.map((r) => ({ ...r, payload: Buffer.from(r.payload).toString('base64') })));
    else await tx.outboxEvent.createMany({ data: rows });
    return rows.map((r) => r.id);
  }
}
