import { bool, durationMs, loadConfig } from '@tessera/config';
import type { OutboxRelaySettings } from '@tessera/outbox';
import { z } from 'zod';

/**
 * Relay tuning, read from the environment beside the service config (kept here so the relay's knobs
 * live with the relay; validated at boot like the rest).
 */
export const outboxRelayConfigSchema = z.object({
  /** Off for instances that must never publish (e.g. a read replica deployment). */
  TRANSACTIONS_OUTBOX_RELAY_ENABLED: bool().default(true),
  TRANSACTIONS_OUTBOX_BATCH_SIZE: z.coerce.number().int().min(1).max(5000).default(500),
  /** Idle poll interval when the outbox is empty. */
  TRANSACTIONS_OUTBOX_POLL_MS: durationMs().default(100),
  /** How often a standby instance retries to become the relay leader. */
  TRANSACTIONS_OUTBOX_LEADER_POLL_MS: durationMs().default(2000),
  /** Ceiling of the exponential backoff while Kafka or Postgres fail. */
  TRANSACTIONS_OUTBOX_MAX_BACKOFF_MS: durationMs().default(10_000),
  /** Published rows older than this are deleted by the leader, once a minute (@tessera/db pruneSentOutbox); 0 keeps them. */
  TRANSACTIONS_OUTBOX_RETENTION_MS: durationMs().default(86_400_000),
});

export type OutboxRelayConfig = z.infer<typeof outboxRelayConfigSchema>;

export function loadOutboxRelayConfig(env: NodeJS.ProcessEnv = process.env): OutboxRelayConfig {
  return loadConfig(outboxRelayConfigSchema, env, { service: 'transactions' });
}

/** The @tessera/outbox relay's settings from this service's variables. */
export function relaySettings(config: OutboxRelayConfig): OutboxRelaySettings {
  return {
    batchSize: config.TRANSACTIONS_OUTBOX_BATCH_SIZE,
    pollMs: config.TRANSACTIONS_OUTBOX_POLL_MS,
    leaderPollMs: config.TRANSACTIONS_OUTBOX_LEADER_POLL_MS,
    maxBackoffMs: config.TRANSACTIONS_OUTBOX_MAX_BACKOFF_MS,
    retentionMs: config.TRANSACTIONS_OUTBOX_RETENTION_MS,
  };
}
