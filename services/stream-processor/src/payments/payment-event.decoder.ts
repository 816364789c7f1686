import { eventTypeName, paymentsV1 } from '@tessera/contracts';
import { decodeEnvelope } from '@tessera/kafka';
import { DlqReason, type DecodedRecord, type Measurement } from '../processing/processing.types';

export const PAYMENTS_TENANT = 'payments';
export const PAYMENTS_STREAM = 'transfers';
/** Payment metrics are split by currency only (plus the total). */
export const PAYMENT_DIMENSIONS = ['currency'];
const TRANSFER_DECLINED = 'tessera.payments.v1.TransferDeclined';

/**
 * Whether the aggregation needs this record: a TransferCreated or TransferDeclined, or a record it cannot even read as
 * an envelope (it dead-letters that one with its reason). The payments copy forwards only these to the repartition
 * topic: every other payment event (AccountOpened, TransferPosted, holds, ...) was copied, then ignored, and cost one
 * Kafka transaction on the aggregation side (~7 ms of the processor's CPU per account opened under load, issue #12).
 */
export function isAggregatedPaymentEvent(value: Buffer | null): boolean {
  try {
    const type = decodeEnvelope(value).type;
    return type === eventTypeName.TransferCreated || type === TRANSFER_DECLINED;
  } catch {
    return true;
  }
}

/**
 * Maps payments.transfer.events.v1 onto measurements of tenant "payments", stream "transfers",
 * split by currency: each created transfer counts (transfer.count = 1) and adds its amount in minor
 * units (transfer.value); a declined one (at creation or after review) adds transfer.declined = 1,
 * so decline rate = declined / count per window. Other payment events are ignored, not poison.
 */
export function decodePaymentEvent(value: Buffer | null): DecodedRecord {
  let envelope;
  try {
    envelope = decodeEnvelope(value);
  } catch (error) {
    return { kind: 'poison', code: DlqReason.invalidEnvelope, reason: (error as Error).message };
  }
  let transfer: paymentsV1.Transfer | undefined;
  const measurements: Measurement[] = [];
  try {
    if (envelope.type === eventTypeName.TransferCreated) {
      transfer = paymentsV1.TransferCreated.decode(envelope.data).transfer;
      if (!transfer?.amount) return { kind: 'poison', code: DlqReason.invalidEvent, reason: 'TransferCreated without amount' };
      measurements.push({ metric: 'transfer.count', value: 1 }, { metric: 'transfer.value', value: Number(transfer.amount.amountMinor) });
      if (transfer.status === paymentsV1.TransferStatus.TRANSFER_STATUS_DECLINED)
        measurements.push({ metric: 'transfer.declined', value: 1 });
    } else if (envelope.type === TRANSFER_DECLINED) {
      transfer = paymentsV1.TransferDeclined.decode(envelope.data).transfer;
      measurements.push({ metric: 'transfer.declined', value: 1 });
    } else {
      return { kind: 'ignored' };
    }
  } catch (error) {
    return {
      kind: 'poison',
      code: DlqReason.invalidPayload,
      reason: `payload is not a ${envelope.type.slice(0, 100)}: ${(error as Error).message}`,
    };
  }
  const time = transfer?.createdAt ?? envelope.time;
  if (!time) return { kind: 'poison', code: DlqReason.invalidEvent, reason: 'no event time' };
  return {
    kind: 'event',
    event: {
      tenantId: PAYMENTS_TENANT,
      streamId: PAYMENTS_STREAM,
      eventId: envelope.id,
      eventTimeMs: time.getTime(),
      measurements,
      attributes: { currency: transfer?.amount?.currency || 'UNKNOWN', user_id: transfer?.sourceAccountId ?? '' },
      dimensions: PAYMENT_DIMENSIONS,
    },
    ...(envelope.traceparent ? { traceparent: envelope.traceparent } : {}),
  };
}
