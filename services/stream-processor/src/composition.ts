import { createKafka } from '@tessera/kafka';
import { createLogger } from '@tessera/telemetry';
import type { StreamProcessorConfig } from './config';
import { StreamProcessorRunner } from './kafka/stream-processor.runner';
import type { AggregationOptions } from './processing/partition-state';
import { TenantMetadata } from './processing/tenant-metadata';

/** The processor's aggregation settings from config (shared with the replay CLI and tests). */
export function aggregationOptions(config: StreamProcessorConfig): AggregationOptions {
  return {
    windows: config.STREAM_PROCESSOR_WINDOWS,
    dimensions: config.STREAM_PROCESSOR_DIMENSIONS,
    distinctAttribute: config.STREAM_PROCESSOR_DISTINCT_ATTRIBUTE,
    allowedLatenessMs: config.STREAM_PROCESSOR_ALLOWED_LATENESS_MS,
    watermarkDelayMs: config.STREAM_PROCESSOR_WATERMARK_DELAY_MS,
    dedupeHorizonMs: config.STREAM_PROCESSOR_DEDUPE_HORIZON_MS,
    closedRetentionMs: config.STREAM_PROCESSOR_CLOSED_RETENTION_MS,
    maxFutureSkewMs: config.STREAM_PROCESSOR_MAX_FUTURE_SKEW_MS,
    hllPrecision: config.STREAM_PROCESSOR_HLL_PRECISION,
    sketchAlpha: config.STREAM_PROCESSOR_SKETCH_ALPHA,
  };
}

/**
 * Composition root: the processor is a plain Node worker (no HTTP or gRPC surface, so no Nest
 * container); liveness is the process itself plus the consumer-group membership visible as lag.
 */
export function createStreamProcessor(config: StreamProcessorConfig): StreamProcessorRunner {
  const logger = createLogger('StreamProcessor');
  const kafka = createKafka({ clientId: 'stream-processor', brokers: config.KAFKA_BROKERS, logger });
  return new StreamProcessorRunner({
    kafka,
    logger,
    groupId: config.STREAM_PROCESSOR_GROUP,
    transactionalIdPrefix: config.STREAM_PROCESSOR_TRANSACTIONAL_ID_PREFIX,
    topics: {
      raw: config.STREAM_PROCESSOR_RAW_TOPIC,
      payments: config.STREAM_PROCESSOR_PAYMENTS_TOPIC === 'none' ? undefined : config.STREAM_PROCESSOR_PAYMENTS_TOPIC,
      paymentsRepartition: config.STREAM_PROCESSOR_PAYMENTS_REPARTITION_TOPIC,
      aggregates: config.STREAM_PROCESSOR_AGGREGATES_TOPIC,
      dlq: config.STREAM_PROCESSOR_DLQ_TOPIC,
      changelog: config.STREAM_PROCESSOR_CHANGELOG_TOPIC,
    },
    aggregation: aggregationOptions(config),
    tenants: TenantMetadata.parse(config.STREAM_PROCESSOR_TENANT_METADATA),
    idleAdvanceMs: config.STREAM_PROCESSOR_IDLE_ADVANCE_MS,
    transactionTimeoutMs: config.STREAM_PROCESSOR_TRANSACTION_TIMEOUT_MS,
    fromBeginning: config.STREAM_PROCESSOR_FROM_BEGINNING,
    maxBatchBytes: config.STREAM_PROCESSOR_MAX_BATCH_BYTES,
    fetchMinBytes: config.STREAM_PROCESSOR_FETCH_MIN_BYTES,
    fetchMaxWaitMs: config.STREAM_PROCESSOR_FETCH_MAX_WAIT_MS,
  });
}
