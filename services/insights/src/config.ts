import { authEnvSchema } from '@tessera/auth';
import { bool, brokers, durationMs, loadConfigOrExit, port, postgresUrl } from '@tessera/config';
import { z } from 'zod';

export const insightsConfigSchema = z.object({
  INSIGHTS_GRPC_PORT: port().default(50054),
  INSIGHTS_GRPC_HOST: z.string().default('127.0.0.1'),
  INSIGHTS_DATABASE_URL: postgresUrl().default('postgresql://tessera:tessera@127.0.0.1:55432/tessera_insights'),
  INSIGHTS_DB_POOL_MAX: z.coerce.number().int().min(1).max(50).default(5),
  KAFKA_BROKERS: brokers().default(['127.0.0.1:19092']),
  INSIGHTS_CONSUMER_ENABLED: bool().default(true),
  /** Tests give each run its own group and topic so they never share partitions with a running service. */
  INSIGHTS_CONSUMER_GROUP: z
    .string()
    .regex(/^insights\.[a-z0-9.-]+$/)
    .default('insights.read-models'),
  INSIGHTS_AGGREGATES_TOPIC: z.string().min(1).default('analytics.aggregates.v1'),
  /**
   * Partitions whose fetched batches are stored at once (each on its own pooled connection, so at most
   * INSIGHTS_DB_POOL_MAX - 1 leaves one for reads). 1 stores one batch at a time: the process then waits on each
   * upsert with nothing to do (issue #11). Windows live in one partition each, so concurrent batches never touch the
   * same row.
   */
  INSIGHTS_CONSUMER_PARTITIONS_AT_ONCE: z.coerce.number().int().min(1).max(49).default(3),
  /** Per StreamAggregates subscriber: updates held for a slow reader before the oldest are dropped. */
  INSIGHTS_STREAM_BUFFER: z.coerce.number().int().min(1).max(100_000).default(1024),
  /** GetAggregates: time range when the request leaves `from`/`to` empty, and the longest range accepted. */
  INSIGHTS_DEFAULT_RANGE_MS: durationMs().default(60 * 60 * 1000),
  INSIGHTS_MAX_RANGE_MS: durationMs().default(31 * 24 * 60 * 60 * 1000),
  /** Token verification and the hashed API key store (see @tessera/auth); dev defaults outside production. */
  ...authEnvSchema.shape,
  NODE_ENV: z.string().optional(),
});

export type InsightsConfig = z.infer<typeof insightsConfigSchema>;
export const INSIGHTS_CONFIG = Symbol('INSIGHTS_CONFIG');

export function loadInsightsConfig(env: NodeJS.ProcessEnv = process.env): InsightsConfig {
  return loadConfigOrExit(insightsConfigSchema, env, { service: 'insights' });
}
