import { bool, loadConfigOrExit, port, hostPort, brokers, durationMs } from '@tessera/config';
import { z } from 'zod';
import { rateLimitsSchema } from './rate-limit/rate-limits';

/** Browser origins allowed to call the API cross-origin, exact `scheme://host[:port]`; empty = none. */
const origins = () =>
  z
    .string()
    .default('')
    .transform((raw, ctx) => {
      const list = raw
        .split(',')
        .map((o) => o.trim())
        .filter((o) => o !== '');
      for (const origin of list) {
        let ok = false;
        try {
          const url = new URL(origin);
          ok = (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === origin;
        } catch {
          ok = false;
        }
        if (!ok) {
          ctx.addIssue({
            code: 'custom',
            message: `"${origin}" is not an origin like https://console.example.com (no path, no trailing slash, no *)`,
          });
          return z.NEVER;
        }
      }
      return list;
    });

const gatewayConfigObject = z.object({
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
  /**
   * POST /v1/transfers/batch: up to 100 transfers screened in one call and posted in one transaction. A bulk
   * operation, not an interactive one: under load it queues longer than a single transfer, and a batch cut off at the
   * ordinary deadline is work done for nobody (the caller retries it).
   */
  GATEWAY_BATCH_DEADLINE_MS: durationMs().default(10_000),
  /** POST /v1/events waits for Kafka's ack through ingest (which gives up after 5 s), so it gets more than ordinary calls. */
  GATEWAY_EVENTS_DEADLINE_MS: durationMs().default(10_000),
  GATEWAY_HEALTH_TIMEOUT_MS: durationMs().default(1500),
  /** `production` turns off every dev convenience. Token/API key settings: @tessera/auth authEnvSchema. */
  NODE_ENV: z.string().optional(),
  /** Comment lines on idle live streams, so proxies keep them open. */
  GATEWAY_LIVE_HEARTBEAT_MS: durationMs().default(15_000),
  /** Larger bodies are refused with 413 before they are parsed. */
  GATEWAY_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(256 * 1024),
  /** Whole request (headers + body) must arrive within this, so a slow-body (slowloris) client is cut off. */
  GATEWAY_REQUEST_TIMEOUT_MS: durationMs().default(30_000),
  /** Headers must arrive within this (Node's headersTimeout); at most GATEWAY_REQUEST_TIMEOUT_MS. */
  GATEWAY_HEADERS_TIMEOUT_MS: durationMs().default(10_000),
  /** Idle keep-alive connections close after this; above the usual 60 s of load balancers so they close first. */
  GATEWAY_KEEP_ALIVE_TIMEOUT_MS: durationMs().default(65_000),
  /** A socket with no traffic either way for this long is destroyed; above the live heartbeat so SSE streams survive. */
  GATEWAY_CONNECTION_TIMEOUT_MS: durationMs().default(120_000),
  /** On shutdown, in-flight requests get this long to finish before remaining connections are cut. */
  GATEWAY_SHUTDOWN_GRACE_MS: durationMs().default(10_000),
  /** Token buckets per client and route class: `<class>=<burst>/<period>,...` (see rate-limit/rate-limits.ts). */
  GATEWAY_RATE_LIMITS: rateLimitsSchema,
  /** Bound on tracked clients (LRU); the least recently seen client's bucket is forgotten beyond it. */
  GATEWAY_RATE_LIMIT_MAX_CLIENTS: z.coerce.number().int().positive().default(50_000),
  /** Comma-separated origins allowed by CORS; default none (the console is same-origin). */
  GATEWAY_CORS_ORIGINS: origins(),
  /** Behind a trusted reverse proxy: take the client IP from X-Forwarded-For (rate limits and audit use it). */
  GATEWAY_TRUST_PROXY: bool().default(false),
  /** Groups shown by GET /v1/ops/consumer-lag: ids or `<service>.*` (default: the consuming services of infra/topology.yaml). */
  GATEWAY_LAG_GROUPS: z
    .string()
    .default('transactions.*,compliance.*,insights.*,stream-processor.*,stream-processor-go.*')
    .transform((list) =>
      list
        .split(',')
        .map((g) => g.trim())
        .filter((g) => g !== ''),
    ),
  /** The built console (services/console/dist) when it is not beside the gateway's build. */
  GATEWAY_CONSOLE_DIR: z.string().min(1).optional(),
  GATEWAY_CONSOLE_TENANT: z.string().default('demo'),
  GATEWAY_CONSOLE_PAYMENTS_TENANT: z.string().default('payments'),
  /** Trace UI link for the console, e.g. http://localhost:16686/trace/{traceId}. */
  TESSERA_TRACE_URL: z
    .string()
    .regex(/^https?:\/\/\S*\{traceId\}/, 'must be an http(s) URL containing {traceId}')
    .optional(),
});

export type GatewayConfig = z.infer<typeof gatewayConfigObject>;

/** Checks between keys that zod's per-key schema cannot express. */
function checkTimeouts(config: GatewayConfig, ctx: z.RefinementCtx): void {
  if (config.GATEWAY_HEADERS_TIMEOUT_MS > config.GATEWAY_REQUEST_TIMEOUT_MS) {
    ctx.addIssue({ code: 'custom', path: ['GATEWAY_HEADERS_TIMEOUT_MS'], message: 'must not exceed GATEWAY_REQUEST_TIMEOUT_MS' });
  }
  if (config.GATEWAY_CONNECTION_TIMEOUT_MS <= config.GATEWAY_LIVE_HEARTBEAT_MS) {
    ctx.addIssue({
      code: 'custom',
      path: ['GATEWAY_CONNECTION_TIMEOUT_MS'],
      message: 'must exceed GATEWAY_LIVE_HEARTBEAT_MS, or idle live streams are cut',
    });
  }
}

export const gatewayConfigSchema = gatewayConfigObject.superRefine(checkTimeouts);

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return loadConfigOrExit(gatewayConfigSchema, env, { service: 'gateway' });
}
