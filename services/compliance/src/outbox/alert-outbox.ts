import { v7 as uuidv7 } from 'uuid';
import { Injectable } from '@nestjs/common';
import { complianceV1, eventTypeName } from '@tessera/contracts';
import { injectTraceContext } from '@tessera/kafka';
import type { Alert } from '../alerts/alert';
import { alertToProto } from '../alerts/alert.codec';
import type { Prisma } from '../generated/prisma/client';

/**
 * Writes a ComplianceAlert event in the caller's transaction, so an alert change and its event commit
 * together (the relay publishes later). Keyed by account id: one account's alert changes stay ordered.
 */
@Injectable()
export class AlertOutbox {
  async enqueue(tx: Prisma.TransactionClient, topic: string, alert: Alert): Promise<{ eventId: string }> {
    const event = this.eventOf(topic, alert);
    await tx.outboxEvent.create({ data: event });
    return { eventId: event.id };
  }

  /** The outbox row of `alert`'s event, for a caller that writes it in its own statement (`AlertRepository.raise`). */
  eventOf(topic: string, alert: Alert): { id: string; topic: string; key: string; type: string; subject: string; payload: Uint8Array<ArrayBuffer>; traceparent: string } {
    return {
      id: uuidv7(), // time-ordered: see docs/ids.md
      topic,
      key: alert.accountId,
      type: eventTypeName.ComplianceAlert,
      subject: alert.id,
      payload: new Uint8Array(complianceV1.ComplianceAlert.encode({ alert: alertToProto(alert) }).finish()),
      traceparent: injectTraceContext()['traceparent'] ?? '',
    };
  }
}
