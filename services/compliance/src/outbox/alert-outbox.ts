import { randomUUID } from 'node:crypto';
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
    const id = randomUUID();
    const payload = complianceV1.ComplianceAlert.encode({ alert: alertToProto(alert) }).finish();
    await tx.outboxEvent.create({
      data: {
        id,
        topic,
        key: alert.accountId,
        type: eventTypeName.ComplianceAlert,
        subject: alert.id,
        payload: Buffer.from(payload),
        traceparent: injectTraceContext()['traceparent'] ?? '',
      },
    });
    return { eventId: id };
  }
}
