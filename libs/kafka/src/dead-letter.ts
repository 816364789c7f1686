import type { IHeaders, KafkaMessage, Message } from 'kafkajs';

/** `<topic>.dlq`: the dead-letter topic sits beside its source topic. */
export function dlqTopicFor(topic: string): string {
  return `${topic}.dlq`;
}

/** Headers added to a dead-lettered record; the original headers are kept alongside. */
export const DlqHeaders = {
  reason: 'dlq-reason',
  errorCode: 'dlq-error-code',
  originalTopic: 'dlq-original-topic',
  originalPartition: 'dlq-original-partition',
  originalOffset: 'dlq-original-offset',
  attempts: 'dlq-attempts',
  consumerGroup: 'dlq-consumer-group',
  failedAt: 'dlq-failed-at',
} as const;

export interface DeadLetterInfo {
  topic: string;
  partition: number;
  offset: string;
  attempts: number;
  groupId: string;
  error: unknown;
  now?: Date;
}

const MAX_REASON_LENGTH = 500;

/**
 * A short, stable description of why a message failed. AppError codes/messages are safe by contract;
 * other messages are truncated so a stray payload dump does not fill the DLQ header.
 */
export function failureReason(error: unknown): { reason: string; code: string } {
  const err = error as { name?: unknown; message?: unknown; code?: unknown } | null;
  const code = typeof err?.code === 'string' ? err.code : 'UNHANDLED';
  const name = typeof err?.name === 'string' ? err.name : 'Error';
  const message = typeof err?.message === 'string' ? err.message : String(error);
  return { reason: `${name}: ${message}`.slice(0, MAX_REASON_LENGTH), code };
}

/** The record to write to the DLQ: original key, value and headers, plus the failure headers. */
export function deadLetterMessage(original: KafkaMessage, info: DeadLetterInfo): Message {
  const { reason, code } = failureReason(info.error);
  const headers: IHeaders = {
    ...(original.headers ?? {}),
    [DlqHeaders.reason]: reason,
    [DlqHeaders.errorCode]: code,
    [DlqHeaders.originalTopic]: info.topic,
    [DlqHeaders.originalPartition]: String(info.partition),
    [DlqHeaders.originalOffset]: info.offset,
    [DlqHeaders.attempts]: String(info.attempts),
    [DlqHeaders.consumerGroup]: info.groupId,
    [DlqHeaders.failedAt]: (info.now ?? new Date()).toISOString(),
  };
  return { key: original.key, value: original.value, headers };
}
