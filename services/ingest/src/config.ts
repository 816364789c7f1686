import { authEnvSchema } from '@tessera/auth';
import { brokers, durationMs, loadConfigOrExit, port } from '@tessera/config';
import { z } from 'zod';

const EVENT_TYPE = /^[a-z][a-z0-9_.]{0,63}$/;

export const ingestConfigSchema = z.object({
  INGEST_GRPC_PORT: port().default(50053),
  INGEST_GRPC_HOST: z.string().default('127.0.0.1'),
  KAFKA_BROKERS: brokers().default(['127.0.0.1:19092']),
  /** Tests point each run at its own topic; auto-creation is off, so it must exist. */
  INGEST_RAW_TOPIC: z
    .string()
    .regex(/^[a-zA-Z0-9._-]{1,249}$/)
    .default('analytics.events.raw.v1'),
  /** Token verification and the hashed API key store (see @tessera/auth); dev defaults outside production. */
  ...authEnvSchema.shape,
  NODE_ENV: z.string().optional(),
  /** Registered event types (comma separated); unset = any type matching the name pattern. */
  INGEST_EVENT_TYPES: z
    .string()
    .transform((raw, ctx) => {
      const list = raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const bad = list.filter((t) => !EVENT_TYPE.test(t));
      if (bad.length > 0) {
        ctx.addIssue({ code: 'custom', message: `every type must match ${EVENT_TYPE.source}; invalid: ${bad.join(', ')}`, input: raw });
        return z.NEVER;
      }
      return list;
    })
    .optional(),
  /** How old an event may be (event time vs. now) and still be accepted. */
  INGEST_MAX_EVENT_AGE_MS: durationMs().default(7 * 24 * 3_600_000),
  /** How far in the future an event may be stamped (producer clock skew). */
  INGEST_MAX_FUTURE_SKEW_MS: durationMs().default(5 * 60_000),
  /** Events per IngestBatch call and per IngestStream message (the gateway documents the same). */
  INGEST_MAX_BATCH_EVENTS: z.coerce.number().int().min(1).max(10_000).default(1000),
  INGEST_MAX_ATTRIBUTES: z.coerce.number().int().min(0).max(256).default(32),
  /** UTF-8 bytes of all attribute keys and values of one event together. */
  INGEST_MAX_ATTRIBUTES_BYTES: z.coerce.number().int().min(64).max(65_536).default(4096),
  /** Batches admitted to the producer (sending or queued); beyond that callers get UNAVAILABLE at once. */
  INGEST_MAX_PENDING_PUBLISHES: z.coerce.number().int().min(1).max(10_000).default(64),
  /** Batches of one IngestStream call being published at once; the stream is paused above it. */
  INGEST_STREAM_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(64).default(4),
  /** How long a call waits for the broker's ack before answering UNAVAILABLE. */
  INGEST_PUBLISH_TIMEOUT_MS: durationMs().default(5000),
  /** How often Kafka reachability (and the raw topic) is probed; drives health and fast rejections. */
  INGEST_KAFKA_PROBE_MS: durationMs().default(2000),
});

export type IngestConfig = z.infer<typeof ingestConfigSchema>;
export const INGEST_CONFIG = Symbol('INGEST_CONFIG');

export function loadIngestConfig(env: NodeJS.ProcessEnv = process.env): IngestConfig {
  return loadConfigOrExit(ingestConfigSchema, env, { service: 'ingest' });
}
