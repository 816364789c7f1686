import { apiKeys } from '@tessera/auth';
import { loadConfigOrExit, port, hostPort, brokers, durationMs } from '@tessera/config';
import { z } from 'zod';

export const gatewayConfigSchema = z.object({
  GATEWAY_HTTP_PORT: port().default(8080),
  GATEWAY_HTTP_HOST: z.string().default('127.0.0.1'),
  TRANSACTIONS_ADDR: hostPort().default('127.0.0.1:50051'),
  COMPLIANCE_ADDR: hostPort().default('127.0.0.1:50052'),
  INGEST_ADDR: hostPort().default('127.0.0.1:50053'),
  INSIGHTS_ADDR: hostPort().default('127.0.0.1:50054'),
  KAFKA_BROKERS: brokers().default(['127.0.0.1:19092']),
  GATEWAY_GRPC_DEADLINE_MS: durationMs().default(3000),
  /** Verifying the audit chain reads every record, so it gets a longer deadline than ordinary calls. */
  GATEWAY_AUDIT_VERIFY_DEADLINE_MS: durationMs().default(30_000),
  /** POST /v1/events waits for Kafka's ack through ingest (which gives up after 5 s), so it gets more than ordinary calls. */
  GATEWAY_EVENTS_DEADLINE_MS: durationMs().default(10_000),
  GATEWAY_HEALTH_TIMEOUT_MS: durationMs().default(1500),
  /** Per-tenant keys for insights reads and the live channel: the same list ingest checks (`tenant:key,...`). */
  INGEST_API_KEYS: apiKeys().optional(),
  /** Without INGEST_API_KEYS, `demo:demo-key` works only when this is not `production`. */
  NODE_ENV: z.string().optional(),
  /** Comment lines on idle live streams, so proxies keep them open. */
  GATEWAY_LIVE_HEARTBEAT_MS: durationMs().default(15_000),
  GATEWAY_BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(256 * 1024),
  /** Groups shown by GET /v1/ops/consumer-lag: ids or `<service>.*` (default: the consuming services of infra/topology.yaml). */
  GATEWAY_LAG_GROUPS: z
    .string()
    .default('transactions.*,compliance.*,insights.*,stream-processor.*,stream-processor-go.*')
    .transform((list) => list.split(',').map((g) => g.trim()).filter((g) => g !== '')),
  /** The built console (services/console/dist) when it is not beside the gateway's build. */
  GATEWAY_CONSOLE_DIR: z.string().min(1).optional(),
  GATEWAY_CONSOLE_TENANT: z.string().default('demo'),
  GATEWAY_CONSOLE_PAYMENTS_TENANT: z.string().default('payments'),
  /** Trace UI link for the console, e.g. http://localhost:16686/trace/{traceId}. */
  TESSERA_TRACE_URL: z.string().regex(/^https?:\/\/\S*\{traceId\}/, 'must be an http(s) URL containing {traceId}').optional(),
});

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return loadConfigOrExit(gatewayConfigSchema, env, { service: 'gateway' });
}
