import { authEnvSchema } from '@tessera/auth';
import { brokers, durationMs, hostPort, loadConfigOrExit, port, postgresUrl } from '@tessera/config';
import { z } from 'zod';

export const transactionsConfigSchema = z.object({
  TRANSACTIONS_GRPC_PORT: port().default(50051),
  TRANSACTIONS_GRPC_HOST: z.string().default('127.0.0.1'),
  TRANSACTIONS_DATABASE_URL: postgresUrl().default('postgresql://tessera:tessera@127.0.0.1:55432/tessera_transactions'),
  TRANSACTIONS_DB_POOL_MAX: z.coerce.number().int().min(1).max(50).default(12),
  TRANSACTIONS_DB_PROBE_INTERVAL_MS: durationMs().default(5000),
  KAFKA_BROKERS: brokers().default(['127.0.0.1:19092']),
  /** Consumer group of the pings consumer; tests give each run its own so they never share partitions. */
  /** Compliance's gRPC address; every transfer and hold is screened there before it commits. */
  COMPLIANCE_ADDR: hostPort().default('127.0.0.1:50052'),
  /** Deadline of one Screen call; past it the movement is refused (fail-closed). */
  TRANSACTIONS_SCREEN_DEADLINE_MS: durationMs().default(800),
  /**
   * Deadline of one ScreenBatch call (a batch transfer request screens all its items in one call): up to 100 decisions
   * queued behind other screenings on a busy box; inside the gateway's GATEWAY_BATCH_DEADLINE_MS (10 s).
   */
  TRANSACTIONS_SCREEN_BATCH_DEADLINE_MS: durationMs().default(5000),
  /**
   * Concurrent transfers' screenings share ScreenBatch calls (ComplianceClient): at most this many in one call. 1 turns
   * coalescing off (one Screen call per movement).
   */
  TRANSACTIONS_SCREEN_COALESCE_MAX: z.coerce.number().int().min(1).max(100).default(32),
  /** Screening calls in flight at once; screenings that arrive while all are busy go together in the next call. */
  TRANSACTIONS_SCREEN_IN_FLIGHT: z.coerce.number().int().min(1).max(64).default(2),
  /**
   * Concurrent single transfers share one database transaction (PostingCoalescer): at most this many in one. 1 turns
   * coalescing off (one transaction per transfer).
   */
  TRANSACTIONS_POST_COALESCE_MAX: z.coerce.number().int().min(1).max(500).default(64),
  /**
   * Posting transactions running at once; transfers that arrive while all are busy go together in the next one. 1 by
   * default (it was 4): the machine is CPU-bound long before the database is, and one transaction of sixteen transfers
   * costs far less than four of four (round trips, commit, the audit chain's step); on a hot account, parallel groups
   * only queued on its row lock, each holding a connection and its claimed keys. Measured under 16 clients on 2 cores
   * (issue #10, eighth session): single 131-152 -> 153-224 transfers/s, hot destination 148 -> 173-176 transfers/s.
   * The price: a group waiting on a row lock another transaction holds (a batch, a hold) holds up the singles behind
   * it until that commits. Raise it where the database has cores to spare.
   */
  TRANSACTIONS_POST_IN_FLIGHT: z.coerce.number().int().min(1).max(50).default(1),
  /** How often the sweeper releases expired holds (reads also release them lazily). */
  TRANSACTIONS_HOLD_SWEEP_INTERVAL_MS: durationMs().default(30_000),
  /**
   * How often the audit chain's head is checkpointed (signed, published to TRANSACTIONS_AUDIT_CHECKPOINT_TOPIC) when it
   * moved; 0 turns checkpoints off (and the verify check against them).
   */
  TRANSACTIONS_AUDIT_CHECKPOINT_MS: durationMs().default(5000),
  TRANSACTIONS_AUDIT_CHECKPOINT_TOPIC: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,249}$/)
    .default('payments.audit.checkpoints.v1'),
  /**
   * Ed25519 private key (PKCS#8 PEM) that signs the checkpoints: a file the database user cannot read. Required in
   * production; elsewhere `<TESSERA_AUTH_DIR or .tessera/auth>/audit-checkpoint.pem`, created on first start.
   */
  TRANSACTIONS_AUDIT_CHECKPOINT_KEY_FILE: z
    .string()
    .min(1)
    .meta({ examples: ['/run/secrets/audit-checkpoint.pem'] })
    .optional(),
  TRANSACTIONS_PINGS_GROUP: z
    .string()
    .regex(/^transactions\.[a-z0-9.-]+$/)
    .default('transactions.pings'),
  /** The foundation slice's topic (the gateway's POST /v1/pings); its dead letters go to `<topic>.dlq`. */
  TRANSACTIONS_PINGS_TOPIC: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,249}$/)
    .default('platform.pings.v1'),
  /**
   * The topic of the payment events the outbox publishes (compliance reads it as COMPLIANCE_TRANSFER_EVENTS_TOPIC). A
   * platform of its own on a shared broker (a test, a workshop check) sets both to a copy of its own.
   */
  TRANSACTIONS_TRANSFER_EVENTS_TOPIC: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,249}$/)
    .default('payments.transfer.events.v1'),
  /** Token verification and the hashed API key store (see @tessera/auth); dev defaults outside production. */
  ...authEnvSchema.shape,
  NODE_ENV: z.string().optional(),
});

export type TransactionsConfig = z.infer<typeof transactionsConfigSchema>;
export const TRANSACTIONS_CONFIG = Symbol('TRANSACTIONS_CONFIG');

export function loadTransactionsConfig(env: NodeJS.ProcessEnv = process.env): TransactionsConfig {
  return loadConfigOrExit(transactionsConfigSchema, env, { service: 'transactions' });
}
