import { v7 as uuidv7 } from 'uuid';
import { commonV1 } from '@tessera/contracts';
import type { IHeaders } from 'kafkajs';
import { PoisonMessageError } from './retry-policy';
import { headerString } from './trace-headers';

export type EventEnvelope = commonV1.EventEnvelope;

/** The subset of a ts-proto generated message's functions that the event libs need. */
export interface MessageCodec<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
}

export const PROTOBUF_CONTENT_TYPE = 'application/protobuf';

/** Header names set on every event; `ce_*` follow the CloudEvents Kafka binding. */
export const EventHeaders = {
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  id: 'ce_id',
  type: 'ce_type',
  source: 'ce_source',
  subject: 'ce_subject',
  contentType: 'content-type',
} as const;

/** What a publisher supplies: either encoded bytes or a message plus its generated codec. */
export type EventPayload<T = unknown> =
  { data: Uint8Array; message?: never; codec?: never } | { message: T; codec: MessageCodec<T>; data?: never };

export type EventInput<T = unknown> = EventPayload<T> & {
  /** Fully qualified payload name, e.g. `tessera.payments.v1.TransferCreated`. */
  type: string;
  /** Entity id the event is about. */
  subject: string;
  /** Partition key; defaults to `subject` so one entity's events stay ordered. */
  key?: string;
  /** Event id; supply it when re-publishing (e.g. from an outbox row) so consumers can dedupe. */
  id?: string;
  /** Defaults to 1 (the `v1` of the payload's proto package). */
  schemaVersion?: number;
  /** When the fact happened; defaults to now. */
  time?: Date;
  /** Extra Kafka headers (strings), e.g. tenant id. */
  headers?: Record<string, string>;
};

/** Builds the envelope for one event; `trace` holds the W3C fields of the publishing context. */
export function buildEnvelope(
  input: EventInput,
  source: string,
  trace: Record<string, string>,
  now: () => Date = () => new Date(),
): EventEnvelope {
  const data = input.data ?? input.codec.encode(input.message).finish();
  return commonV1.EventEnvelope.fromPartial({
    // UUIDv7 (time-ordered, `uuid` package): the outbox's and the consumers' unique indexes on event ids take each new
    // id at their right edge instead of a random leaf (see docs/ids.md).
    id: input.id ?? uuidv7(),
    type: input.type,
    source,
    subject: input.subject,
    time: input.time ?? now(),
    schemaVersion: input.schemaVersion ?? 1,
    traceparent: trace['traceparent'] ?? '',
    tracestate: trace['tracestate'] ?? '',
    dataContentType: PROTOBUF_CONTENT_TYPE,
    data,
  });
}

/** Kafka headers mirroring the envelope so brokers-side tools and DLQ readers can route without decoding. */
export function envelopeHeaders(envelope: EventEnvelope, extra: Record<string, string> = {}): Record<string, string> {
  const headers: Record<string, string> = {
    ...extra,
    [EventHeaders.id]: envelope.id,
    [EventHeaders.type]: envelope.type,
    [EventHeaders.source]: envelope.source,
    [EventHeaders.subject]: envelope.subject,
    [EventHeaders.contentType]: PROTOBUF_CONTENT_TYPE,
  };
  if (envelope.traceparent) headers[EventHeaders.traceparent] = envelope.traceparent;
  if (envelope.tracestate) headers[EventHeaders.tracestate] = envelope.tracestate;
  return headers;
}

export function encodeEnvelope(envelope: EventEnvelope): Buffer {
  const bytes = commonV1.EventEnvelope.encode(envelope).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Decodes a record value; anything that is not a usable envelope is a poison message. */
export function decodeEnvelope(value: Buffer | null): EventEnvelope {
  if (!value || value.length === 0) throw new PoisonMessageError('empty record value');
  let envelope: EventEnvelope;
  try {
    envelope = commonV1.EventEnvelope.decode(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
  } catch (error) {
    throw new PoisonMessageError('record value is not an EventEnvelope', { cause: error });
  }
  if (!envelope.id || !envelope.type) throw new PoisonMessageError('envelope lacks id or type');
  return envelope;
}

/** The payload type of a record without decoding its value (from the `ce_type` header). */
export function eventTypeOf(headers: IHeaders | undefined): string | undefined {
  return headerString(headers, EventHeaders.type);
}
