import { bool, brokers, durationMs, loadConfigOrExit } from '@tessera/config';
import { z } from 'zod';
import { parseWindowSpecs } from './windowing/window-spec';

const list = () =>
  z.string().transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  );

export const streamProcessorConfigSchema = z
  .object({
    KAFKA_BROKERS: brokers().default(['127.0.0.1:19092']),
    STREAM_PROCESSOR_RAW_TOPIC: z.string().default('analytics.events.raw.v1'),
    /** `none` disables payment metrics. */
    STREAM_PROCESSOR_PAYMENTS_TOPIC: z.string().default('payments.transfer.events.v1'),
    /** Payment events re-keyed to one key so each payment window lives in one partition state; created at start. */
    STREAM_PROCESSOR_PAYMENTS_REPARTITION_TOPIC: z.string().default('analytics.processor-payments.repartition.v1'),
    STREAM_PROCESSOR_AGGREGATES_TOPIC: z.string().default('analytics.aggregates.v1'),
    STREAM_PROCESSOR_DLQ_TOPIC: z.string().default('analytics.events.dlq.v1'),
    /** Compacted state changelog; created at start (partitions = sum of the input topics'). */
    STREAM_PROCESSOR_CHANGELOG_TOPIC: z.string().default('analytics.processor-state.changelog.v1'),
    STREAM_PROCESSOR_GROUP: z
      .string()
      .regex(/^stream-processor\.[a-z0-9.-]+$/)
      .default('stream-processor.aggregates'),
    /** Prefix of the per-input-partition transactional ids (fencing a zombie owner of a partition). */
    STREAM_PROCESSOR_TRANSACTIONAL_ID_PREFIX: z.string().min(1).default('stream-processor'),
    STREAM_PROCESSOR_WINDOWS: z
      .string()
      .default('10s,60s,60s/10s')
      .transform((s, ctx) => {
        try {
          return parseWindowSpecs(s);
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: (error as Error).message });
          return z.NEVER;
        }
      }),
    STREAM_PROCESSOR_DIMENSIONS: list().default(['country', 'plan']),
    STREAM_PROCESSOR_DISTINCT_ATTRIBUTE: z.string().default('user_id'),
    STREAM_PROCESSOR_ALLOWED_LATENESS_MS: durationMs().default(30_000),
    STREAM_PROCESSOR_WATERMARK_DELAY_MS: durationMs().default(5_000),
    /** 0 disables advancing the watermark on wall-clock idleness. */
    STREAM_PROCESSOR_IDLE_ADVANCE_MS: z.coerce.number().int().min(0).default(10_000),
    /**
     * Event time an event id is remembered for dedupe. Must be at least the largest window + the allowed lateness (checked
     * below): an older duplicate is then too late for every window it belongs to. Memory is one horizon of ids (~110
     * bytes each): 600 s at 5,000 events/s was 3M ids and ran the 192 MB heap out of memory after 4 minutes (issue #11);
     * 120 s is 600k.
     */
    STREAM_PROCESSOR_DEDUPE_HORIZON_MS: durationMs().default(120_000),
    STREAM_PROCESSOR_CLOSED_RETENTION_MS: durationMs().default(300_000),
    STREAM_PROCESSOR_MAX_FUTURE_SKEW_MS: durationMs().default(3_600_000),
    STREAM_PROCESSOR_HLL_PRECISION: z.coerce.number().int().min(4).max(16).default(11),
    STREAM_PROCESSOR_SKETCH_ALPHA: z.coerce.number().gt(0).lt(1).default(0.01),
    /** JSON map tenant -> attributes added to its events, e.g. {"demo":{"tenant_tier":"free"}}. */
    STREAM_PROCESSOR_TENANT_METADATA: z.string().default('{"demo":{"tenant_tier":"free","tenant_region":"eu"}}'),
    STREAM_PROCESSOR_TRANSACTION_TIMEOUT_MS: durationMs().default(30_000),
    STREAM_PROCESSOR_FROM_BEGINNING: bool().default(true),
    /** Fetch size per partition, i.e. the upper bound of one batch = one transaction (bytes). */
    STREAM_PROCESSOR_MAX_BATCH_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
    /**
     * The broker holds a fetch until this many bytes are there or STREAM_PROCESSOR_FETCH_MAX_WAIT_MS passed. Each fetched
     * batch is one Kafka transaction and one revision per window it touched: a trickle (payment events, ~100/s) fetched
     * as it comes made a transaction and ~2 revisions + ~2 changelog records per event; 64 KB / 200 ms halves both
     * (issue #10). Under load the bytes are there at once and the wait never happens. 1 = fetch whatever is there.
     */
    STREAM_PROCESSOR_FETCH_MIN_BYTES: z.coerce.number().int().min(1).default(65_536),
    STREAM_PROCESSOR_FETCH_MAX_WAIT_MS: z.coerce.number().int().min(0).max(5_000).default(200),
  })
  .superRefine((c, ctx) => {
    const needed = Math.max(...c.STREAM_PROCESSOR_WINDOWS.map((w) => w.sizeMs)) + c.STREAM_PROCESSOR_ALLOWED_LATENESS_MS;
    if (c.STREAM_PROCESSOR_DEDUPE_HORIZON_MS < needed) {
      ctx.addIssue({
        code: 'custom',
        path: ['STREAM_PROCESSOR_DEDUPE_HORIZON_MS'],
        message: `must be at least the largest window + STREAM_PROCESSOR_ALLOWED_LATENESS_MS (${needed} ms): a duplicate older than the horizon would be counted again`,
      });
    }
  });

export type StreamProcessorConfig = z.infer<typeof streamProcessorConfigSchema>;

export function loadStreamProcessorConfig(env: NodeJS.ProcessEnv = process.env): StreamProcessorConfig {
  return loadConfigOrExit(streamProcessorConfigSchema, env, { service: 'stream-processor' });
}
