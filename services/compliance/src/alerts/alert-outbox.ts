import { Injectable } from '@nestjs/common';
import { complianceV1, eventTypeName } from '@tessera/contracts';
import { type OutboxRowInput, outboxRows } from '@tessera/outbox';
import type { Alert } from './alert';
import { alertToProto } from './alert.codec';
import type { Prisma } from '../generated/prisma/client';
import { OUTBOX_SOURCE } from '../outbox/outbox.source';

/**
 * Writes a ComplianceAlert event in the caller's transaction (@tessera/outbox), so an alert change and its event commit
 * together (the relay publishes later). Keyed by account id: one account's alert changes stay ordered.
 */
@Injectable()
export class AlertOutbox {
  async enqueue(tx: Prisma.TransactionClient, topic: string, alert: Alert): Promise<{ eventId: string }> {
    const row = this.eventOf(topic, alert);
    await tx.outboxEvent.create({ data: row });
    return { eventId: row.id };
  }

  /** The outbox row of `alert`'s event (envelope built now, with the active trace), for a caller that writes it in its own statement (`AlertRepository.raise`). */
  eventOf(topic: string, alert: Alert): OutboxRowInput {
    const [row] = outboxRows(OUTBOX_SOURCE, [
      {
        topic,
        key: alert.accountId,
        type: eventTypeName.ComplianceAlert,
        subject: alert.id,
        message: { alert: alertToProto(alert) },
        codec: complianceV1.ComplianceAlert,
      },
    ]);
    if (!row) throw new Error('no outbox row');
    return row;
  }
}
