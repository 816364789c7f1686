import { analyticsV1 } from '@tessera/contracts';
import { z } from 'zod';

/** Documented limits of `POST /v1/events` (the byte limit is GATEWAY_BODY_LIMIT_BYTES, 256 KiB by default). */
export const MAX_EVENTS_PER_BATCH = 1000;
export const API_KEY_HEADER = 'X-Api-Key';
/** Code of an event the gateway could not even map to the contract (wrong JSON types, unknown fields). */
export const MALFORMED_EVENT_CODE = 'EVENTS.MALFORMED_EVENT';

const NUL_MESSAGE = 'must not contain the NUL character (U+0000)';
/** Text without U+0000 (PostgreSQL text in insights cannot hold it); checked per event so it sinks only that event. */
const text = () => z.string().refine((value) => !value.includes('\u0000'), NUL_MESSAGE);

/**
 * The wire shape of one event. Only JSON types (and no U+0000 in any text) are checked here: every content rule (ids, type names, time
 * range, attribute limits, tenant) belongs to ingest, which reports it per event, so one bad event never
 * sinks the batch. Missing strings become "" so ingest names what is missing.
 */
export const eventBody = z
  .object({
    tenantId: text().default('').meta({ description: "Must equal the API key's tenant" }),
    streamId: text().default('').meta({ description: 'Stream within the tenant, e.g. "checkout"; no "/" or "|"' }),
    eventId: text().default('').meta({ description: 'Producer-assigned unique id; reuse it when retrying' }),
    eventType: text().default('').meta({ description: 'Matches ^[a-z][a-z0-9_.]{0,63}$, e.g. "page.view"' }),
    occurredAt: z.iso
      .datetime({ offset: true })
      .optional()
      .meta({ description: 'Event time (RFC 3339); within the accepted past/future skew' }),
    value: z.number().default(0).meta({ description: 'The measured value' }),
    attributes: z.record(text(), text()).default({}).meta({ description: 'Dimensions (at most 32, 4 KiB in all); no PII' }),
  })
  .strict()
  // Also the fuzzer's starting point: schemathesis varies fields of a documented example, so its events get past
  // the tenant check into ingest's content rules (without it nearly every generated event lacks a tenant).
  .meta({
    examples: [
      {
        tenantId: 'demo',
        streamId: 'checkout',
        eventId: 'evt-0001',
        eventType: 'page.view',
        occurredAt: '2026-01-01T12:00:00Z',
        value: 1,
        attributes: { country: 'DE', plan: 'pro' },
      },
    ],
  });
export type EventBody = z.infer<typeof eventBody>;

/** The batch; its events are checked one by one (`toAnalyticsEvent`), so the pipe must not refuse a NUL in one of them. */
export const ingestEventsBody = z
  .object({
    events: z
      .array(z.unknown())
      .min(1)
      .max(MAX_EVENTS_PER_BATCH)
      .meta({ description: `1 to ${MAX_EVENTS_PER_BATCH} events; each is checked on its own (see the event schema)` }),
  })
  .strict();
export type IngestEventsBody = z.infer<typeof ingestEventsBody>;

/** The event schema as documented (the batch validates events one by one against it). */
export const ingestEventsDocBody = z.object({ events: z.array(eventBody).min(1).max(MAX_EVENTS_PER_BATCH) }).strict();

export const rejectionView = z.object({
  index: z.number().int().meta({ description: 'Position in the request' }),
  eventId: z.string().meta({ description: 'The event id when it was well-formed, else ""' }),
  code: z.string().meta({ description: 'e.g. INGEST.TENANT_MISMATCH, INGEST.OCCURRED_AT_OUT_OF_RANGE, EVENTS.MALFORMED_EVENT' }),
  reason: z.string(),
});
export type RejectionView = z.infer<typeof rejectionView>;
export const ingestEventsView = z.object({
  accepted: z.number().int().meta({ description: 'Events stored durably in Kafka (acknowledged by the broker)' }),
  rejections: z.array(rejectionView),
});
export type IngestEventsView = z.infer<typeof ingestEventsView>;

/** A well-formed event, mapped to the contract; or the gateway's own rejection. */
export function toAnalyticsEvent(raw: unknown, index: number): { event: analyticsV1.AnalyticsEvent } | { rejection: RejectionView } {
  const parsed = eventBody.safeParse(raw);
  if (!parsed.success) {
    // A bad record key is reported as "Invalid key in record"; its own issue says why.
    const messageOf = (i: z.core.$ZodIssue) => (i.code === 'invalid_key' ? (i.issues[0]?.message ?? i.message) : i.message);
    const reason = parsed.error.issues.map((i) => `${i.path.join('.') || '(event)'}: ${messageOf(i)}`).join('; ');
    const id = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>)['eventId'] : undefined;
    return {
      rejection: {
        index,
        eventId: typeof id === 'string' && /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(id) ? id : '',
        code: MALFORMED_EVENT_CODE,
        reason,
      },
    };
  }
  const e = parsed.data;
  return {
    event: analyticsV1.AnalyticsEvent.fromPartial({
      tenantId: e.tenantId,
      streamId: e.streamId,
      eventId: e.eventId,
      eventType: e.eventType,
      occurredAt: e.occurredAt === undefined ? undefined : new Date(e.occurredAt),
      value: e.value,
      attributes: e.attributes,
    }),
  };
}
