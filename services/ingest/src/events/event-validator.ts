import type { analyticsV1 } from '@tessera/contracts';
import { RejectionCodes } from './ingest.errors';

/** Same shape as analyticsV1.Rejection (kept structural so this file stays free of generated code at runtime). */
export interface Rejection {
  index: number;
  eventId: string;
  code: string;
  reason: string;
}

export interface ValidationLimits {
  maxEventAgeMs: number;
  maxFutureSkewMs: number;
  maxAttributes: number;
  maxAttributesBytes: number;
  /** Registered event types; undefined = any type matching {@link EVENT_TYPE_PATTERN}. */
  eventTypes?: readonly string[];
}

export const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9_.]{0,63}$/;
/** Same alphabet as API-key tenants (libs/auth). */
export const TENANT_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
/** No '/' or '|': the Kafka key is `tenant/stream` and window keys are '|'-separated. */
export const STREAM_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const EVENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const ATTRIBUTE_KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
export const MAX_ATTRIBUTE_VALUE_CHARS = 256;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Decoders replace invalid UTF-8 with U+FFFD (protobuf and JSON alike), and a lone surrogate cannot be encoded:
 * either means the producer sent bytes that are not text, so the event is refused rather than stored mangled.
 */
export function isCleanText(value: string): boolean {
  return !value.includes('\uFFFD') && !LONE_SURROGATE.test(value);
}

/**
 * Checks one event against the raw-event schema. Returns the first problem found (one reason per event keeps
 * responses small) or undefined when the event may be published. Pure: `now` and the limits come in.
 */
export function validateEvent(
  event: analyticsV1.AnalyticsEvent,
  index: number,
  callerTenant: string,
  now: Date,
  limits: ValidationLimits,
): Rejection | undefined {
  const reject = (code: string, reason: string): Rejection => ({ index, eventId: safeId(event.eventId), code, reason });

  const texts: [string, string][] = [
    ['tenant_id', event.tenantId],
    ['stream_id', event.streamId],
    ['event_id', event.eventId],
    ['event_type', event.eventType],
  ];
  for (const [key, value] of Object.entries(event.attributes)) texts.push([`attributes`, key], [`attributes.${key}`, value]);
  const dirty = texts.find(([, value]) => !isCleanText(value));
  if (dirty)
    return reject(RejectionCodes.invalidUtf8, `${dirty[0].startsWith('attributes') ? 'attributes' : dirty[0]} is not valid UTF-8 text`);

  if (!event.tenantId) return reject(RejectionCodes.tenantRequired, 'tenant_id is required');
  if (!TENANT_PATTERN.test(event.tenantId)) return reject(RejectionCodes.invalidId, `tenant_id must match ${TENANT_PATTERN.source}`);
  if (event.tenantId !== callerTenant) return reject(RejectionCodes.tenantMismatch, "tenant_id is not the credential's tenant");
  if (!STREAM_PATTERN.test(event.streamId)) return reject(RejectionCodes.invalidId, `stream_id must match ${STREAM_PATTERN.source}`);
  if (!EVENT_ID_PATTERN.test(event.eventId)) return reject(RejectionCodes.invalidId, `event_id must match ${EVENT_ID_PATTERN.source}`);

  if (!EVENT_TYPE_PATTERN.test(event.eventType)) {
    return reject(RejectionCodes.invalidEventType, `event_type must match ${EVENT_TYPE_PATTERN.source}`);
  }
  if (limits.eventTypes && !limits.eventTypes.includes(event.eventType)) {
    return reject(RejectionCodes.unknownEventType, `event_type "${event.eventType}" is not registered`);
  }

  const at = event.occurredAt?.getTime();
  if (at === undefined || !Number.isFinite(at)) return reject(RejectionCodes.occurredAtRequired, 'occurred_at is required');
  if (at > now.getTime() + limits.maxFutureSkewMs) {
    return reject(RejectionCodes.occurredAtOutOfRange, `occurred_at is more than ${limits.maxFutureSkewMs} ms in the future`);
  }
  if (at < now.getTime() - limits.maxEventAgeMs) {
    return reject(RejectionCodes.occurredAtOutOfRange, `occurred_at is more than ${limits.maxEventAgeMs} ms in the past`);
  }

  if (!Number.isFinite(event.value)) return reject(RejectionCodes.invalidValue, 'value must be a finite number');

  const entries = Object.entries(event.attributes);
  if (entries.length > limits.maxAttributes) {
    return reject(RejectionCodes.attributesTooLarge, `at most ${limits.maxAttributes} attributes (got ${entries.length})`);
  }
  let bytes = 0;
  for (const [key, value] of entries) {
    if (!ATTRIBUTE_KEY_PATTERN.test(key))
      return reject(RejectionCodes.invalidAttributes, `attribute keys must match ${ATTRIBUTE_KEY_PATTERN.source}`);
    // Values become dimension values in insights' PostgreSQL text columns, which cannot hold U+0000: accepted
    // here, such an event would fail every write of its aggregates there, long after the producer got "accepted".
    if (value.includes('\u0000')) return reject(RejectionCodes.invalidAttributes, `attribute "${key}" contains the NUL character (U+0000)`);
    if (value.length > MAX_ATTRIBUTE_VALUE_CHARS) {
      return reject(RejectionCodes.attributesTooLarge, `attribute "${key}" is longer than ${MAX_ATTRIBUTE_VALUE_CHARS} characters`);
    }
    bytes += Buffer.byteLength(key, 'utf8') + Buffer.byteLength(value, 'utf8');
  }
  if (bytes > limits.maxAttributesBytes) {
    return reject(RejectionCodes.attributesTooLarge, `attributes take ${bytes} bytes; at most ${limits.maxAttributesBytes}`);
  }
  return undefined;
}

/** Echo the id back only when it is safe, short text (it is caller-controlled). */
function safeId(id: string): string {
  return EVENT_ID_PATTERN.test(id) ? id : '';
}
