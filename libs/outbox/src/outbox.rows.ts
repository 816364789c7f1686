import { buildEnvelope, encodeEnvelope, injectTraceContext, type MessageCodec } from '@tessera/kafka';

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

/** One `outbox_events` row as a service writes it (the relay fills `seq`, `created_at`, `sent_at`, `attempts`). */
export interface OutboxRowInput {
  id: string;
  topic: string;
  key: string;
  /** The encoded EventEnvelope: what the relay publishes, byte for byte. */
  payload: Uint8Array<ArrayBuffer>;
  headers: { type: string };
}

/**
 * The rows of events to store in the caller's transaction (transactional outbox): the envelope is built now (id, time,
 * `source`, the active span's traceparent) and stored encoded, so the relay publishes the same id (consumers dedupe on
 * it) and the trace continues from the request that made the change. In order: `seq` follows the row order.
 */
export function outboxRows(source: string, events: readonly OutboxEventInput<unknown>[]): OutboxRowInput[] {
  const trace = injectTraceContext();
  return events.map((event) => {
    const envelope = buildEnvelope(
      { type: event.type, subject: event.subject, key: event.key, message: event.message, codec: event.codec },
      source,
      trace,
    );
    return {
      id: envelope.id,
      topic: event.topic,
      key: event.key,
      payload: new Uint8Array(encodeEnvelope(envelope)),
      headers: { type: event.type },
    };
  });
}
