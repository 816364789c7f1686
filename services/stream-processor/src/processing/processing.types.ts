/** One measurement an input record contributes (a raw event has one; a payment event up to three). */
export interface Measurement {
  metric: string;
  value: number;
}

/** A decoded, validated input record in the processor's own terms. */
export interface NormalizedEvent {
  tenantId: string;
  streamId: string;
  /** Dedupe key: unique per (tenant, stream, event id). */
  eventId: string;
  eventTimeMs: number;
  measurements: Measurement[];
  attributes: Record<string, string>;
  /**
   * Attribute keys to split by instead of the configured STREAM_PROCESSOR_DIMENSIONS: payment
   * metrics are per currency whatever the analytics dimensions are configured to.
   */
  dimensions?: string[];
}

/** Stable reason codes of analytics.events.dlq.v1 (DeadLetter.reason_code). */
export const DlqReason = {
  invalidEnvelope: 'ANALYTICS.INVALID_ENVELOPE',
  unexpectedType: 'ANALYTICS.UNEXPECTED_TYPE',
  invalidPayload: 'ANALYTICS.INVALID_PAYLOAD',
  invalidEvent: 'ANALYTICS.INVALID_EVENT',
  futureEventTime: 'ANALYTICS.FUTURE_EVENT_TIME',
  late: 'LATE',
} as const;

/** Result of decoding one Kafka record. */
export type DecodedRecord =
  /** traceparent: of the event's envelope, when it was traced (the emitting span links to it). */
  { kind: 'event'; event: NormalizedEvent; traceparent?: string } | { kind: 'poison'; code: string; reason: string } | { kind: 'ignored' };

/** A decoded record with its position and original bytes (kept for the DLQ). */
export type InputRecord = DecodedRecord & {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  timestampMs: number;
};

export interface DeadLetterOut {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  code: string;
  reason: string;
}

/** One compacted changelog record of a partition's state (value undefined = tombstone). */
export interface ChangelogEntry {
  key: string;
  value: string | undefined;
}
