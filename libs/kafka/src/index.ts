export { createKafka, createProducer, brokersFromEnv, pinoLogCreator } from './kafka.client';
export type { CreateKafkaOptions, KafkaLogger } from './kafka.client';
export { kafkaSecurityEnvSchema, kafkaSecurityFromEnv, type KafkaSecuritySettings } from './kafka-security';
export {
  buildEnvelope,
  decodeEnvelope,
  encodeEnvelope,
  envelopeHeaders,
  eventTypeOf,
  EventHeaders,
  PROTOBUF_CONTENT_TYPE,
} from './envelope';
export type { EventEnvelope, EventInput, EventPayload, MessageCodec } from './envelope';
export { EventProducer } from './event.producer';
export type { EventProducerOptions, EventTransaction, PreparedEvent, StoredEvent } from './event.producer';
export { EventConsumer, ConsumerStoppingError, reportFatalCrashes, stopOnSignals } from './event.consumer';
export type { BatchHandler, BatchItem, EventConsumerOptions, EventHandler, MessageContext } from './event.consumer';
export { dlqTopicFor, deadLetterMessage, failureReason, DlqHeaders } from './dead-letter';
export type { DeadLetterInfo } from './dead-letter';
export { backoffDelayMs, decideAfterFailure, isRetryable, PoisonMessageError, DEFAULT_RETRY_POLICY } from './retry-policy';
export { isProducerStateError } from './producer-state';
export type { RetryPolicy, FailureDecision } from './retry-policy';
export { ConsumerLagMonitor, computeLag, CONSUMER_LAG_METRIC } from './consumer-lag.monitor';
export type { ConsumerLagMonitorOptions, PartitionLag } from './consumer-lag.monitor';
export { injectTraceContext, extractTraceContext, headerString } from './trace-headers';
export { DeadLetterCounter, DLQ_MESSAGES_METRIC } from './dead-letter.metrics';
export { deleteConsumerGroups } from './consumer-groups';
export {
  readTopicSnapshot,
  replayDlq,
  summariseDeadLetter,
  type DeadLetterSummary,
  type DlqReplayOptions,
  type DlqReplayResult,
} from './dlq-replay';
