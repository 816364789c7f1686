import { AppError } from '@tessera/errors';

/** Per-event rejection codes (IngestBatchResponse.rejections[].code); stable, clients branch on them. */
export const RejectionCodes = {
  tenantRequired: 'INGEST.TENANT_REQUIRED',
  tenantMismatch: 'INGEST.TENANT_MISMATCH',
  invalidId: 'INGEST.INVALID_ID',
  invalidEventType: 'INGEST.INVALID_EVENT_TYPE',
  unknownEventType: 'INGEST.UNKNOWN_EVENT_TYPE',
  occurredAtRequired: 'INGEST.OCCURRED_AT_REQUIRED',
  occurredAtOutOfRange: 'INGEST.OCCURRED_AT_OUT_OF_RANGE',
  invalidValue: 'INGEST.INVALID_VALUE',
  invalidAttributes: 'INGEST.INVALID_ATTRIBUTES',
  attributesTooLarge: 'INGEST.ATTRIBUTES_TOO_LARGE',
  invalidUtf8: 'INGEST.INVALID_UTF8',
} as const;

/** Whole-call failure codes. */
export const IngestErrorCodes = {
  batchTooLarge: 'INGEST.BATCH_TOO_LARGE',
  kafkaUnavailable: 'INGEST.KAFKA_UNAVAILABLE',
  overloaded: 'INGEST.OVERLOADED',
} as const;

/** ErrorInfo metadata key with the seconds a client should wait before retrying (the gateway's Retry-After). */
export const RETRY_AFTER_KEY = 'retryAfterSeconds';

export function batchTooLarge(count: number, max: number): AppError {
  return new AppError({
    code: IngestErrorCodes.batchTooLarge,
    kind: 'INVALID_ARGUMENT',
    message: `A batch holds at most ${max} events`,
    metadata: { maxEvents: String(max), events: String(count) },
  });
}

/** Nothing of the batch was acknowledged: the caller should retry the same events (same ids) later. */
export function kafkaUnavailable(reason: string, retryAfterSeconds: number): AppError {
  return new AppError({
    code: IngestErrorCodes.kafkaUnavailable,
    kind: 'UNAVAILABLE',
    message: `Events could not be stored (${reason}); nothing was acknowledged, retry later`,
    metadata: { [RETRY_AFTER_KEY]: String(retryAfterSeconds) },
  });
}

/** Too many batches are already waiting for the broker: shed load instead of buffering without bound. */
export function overloaded(retryAfterSeconds: number): AppError {
  return new AppError({
    code: IngestErrorCodes.overloaded,
    kind: 'UNAVAILABLE',
    message: 'Ingest is at capacity; nothing was acknowledged, retry later',
    metadata: { [RETRY_AFTER_KEY]: String(retryAfterSeconds) },
  });
}
