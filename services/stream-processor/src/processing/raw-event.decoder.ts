import { analyticsV1, eventTypeName } from '@tessera/contracts';
import { decodeEnvelope } from '@tessera/kafka';
import type { TenantMetadata } from './tenant-metadata';
import { DlqReason, type DecodedRecord } from './processing.types';

const MAX_ID = 200;

/**
 * Decodes an analytics.events.raw.v1 record (EventEnvelope wrapping AnalyticsEvent). Anything
 * unusable is poison with a stable reason code; this function never throws, so a bad record can
 * neither crash the processor nor stall its partition.
 */
export function decodeRawEvent(value: Buffer | null, tenants: TenantMetadata): DecodedRecord {
  let envelope;
  try {
    envelope = decodeEnvelope(value);
  } catch (error) {
    return { kind: 'poison', code: DlqReason.invalidEnvelope, reason: (error as Error).message };
  }
  if (envelope.type !== eventTypeName.AnalyticsEvent) {
    return { kind: 'poison', code: DlqReason.unexpectedType, reason: `unexpected event type ${envelope.type.slice(0, 100)}` };
  }
  let ev: analyticsV1.AnalyticsEvent;
  try {
    ev = analyticsV1.AnalyticsEvent.decode(envelope.data);
  } catch (error) {
    return { kind: 'poison', code: DlqReason.invalidPayload, reason: `payload is not an AnalyticsEvent: ${(error as Error).message}` };
  }
  const problem = validate(ev);
  if (problem) return { kind: 'poison', code: DlqReason.invalidEvent, reason: problem };
  return {
    kind: 'event',
    event: {
      tenantId: ev.tenantId,
      streamId: ev.streamId,
      eventId: ev.eventId,
      eventTimeMs: (ev.occurredAt as Date).getTime(),
      measurements: [{ metric: ev.eventType, value: ev.value }],
      attributes: tenants.enrich(ev.tenantId, ev.attributes),
    },
    ...(envelope.traceparent ? { traceparent: envelope.traceparent } : {}),
  };
}

function validate(ev: analyticsV1.AnalyticsEvent): string | undefined {
  if (!ev.tenantId) return 'tenant_id is missing';
  if (!ev.streamId) return 'stream_id is missing';
  if (!ev.eventId) return 'event_id is missing';
  if (!ev.eventType) return 'event_type is missing';
  if (ev.tenantId.length > MAX_ID || ev.streamId.length > MAX_ID || ev.eventId.length > MAX_ID || ev.eventType.length > MAX_ID)
    return 'an id is longer than 200 characters';
  if (ev.tenantId.includes('|') || ev.streamId.includes('|') || ev.eventType.includes('|')) return 'ids must not contain "|"';
  if (!ev.occurredAt || Number.isNaN(ev.occurredAt.getTime())) return 'occurred_at is missing';
  if (!Number.isFinite(ev.value)) return 'value is not a finite number';
  return undefined;
}
