import { authEnvSchema } from '@tessera/auth';
import { bool, brokers, durationMs, hostPort, loadConfigOrExit, port, postgresUrl } from '@tessera/config';
import { z } from 'zod';
import { DEFAULT_RULES_FILE } from './rules/rule-set';

export const complianceConfigSchema = z.object({
  COMPLIANCE_GRPC_PORT: port().default(50052),
  COMPLIANCE_GRPC_HOST: z.string().default('127.0.0.1'),
  COMPLIANCE_DATABASE_URL: postgresUrl().default('postgresql://tessera:tessera@127.0.0.1:55432/tessera_compliance'),
  COMPLIANCE_DB_POOL_MAX: z.coerce.number().int().min(1).max(50).default(8),
  /** The versioned rules file (rules/rules.v<N>.yaml); its version is recorded on every decision and alert. */
  COMPLIANCE_RULES_FILE: z.string().min(1).default(DEFAULT_RULES_FILE),
  KAFKA_BROKERS: brokers().default(['127.0.0.1:19092']),
  COMPLIANCE_MONITOR_ENABLED: bool().default(true),
  /** Tests give each run its own group (and topics) so they never share partitions with a running service. */
  COMPLIANCE_MONITOR_GROUP: z
    .string()
    .regex(/^compliance\.[a-z0-9.-]+$/)
    .default('compliance.aml-monitor'),
  COMPLIANCE_TRANSFER_EVENTS_TOPIC: z.string().default('payments.transfer.events.v1'),
  COMPLIANCE_ALERTS_TOPIC: z.string().default('compliance.alerts.v1'),
  COMPLIANCE_OUTBOX_POLL_MS: durationMs().default(500),
  /** Published outbox rows older than this are deleted once a minute (@tessera/db pruneSentOutbox); 0 keeps them. */
  COMPLIANCE_OUTBOX_RETENTION_MS: durationMs().default(86_400_000),
  /** transactions' TransferService, for releasing/declining held transfers (not a startup dependency). */
  TRANSACTIONS_ADDR: hostPort().default('127.0.0.1:50051'),
  COMPLIANCE_TRANSACTIONS_DEADLINE_MS: durationMs().default(5000),
  /** Token verification and the hashed API key store (see @tessera/auth); dev defaults outside production. */
  ...authEnvSchema.shape,
  NODE_ENV: z.string().optional(),
});

export type ComplianceConfig = z.infer<typeof complianceConfigSchema>;
export const COMPLIANCE_CONFIG = Symbol('COMPLIANCE_CONFIG');

export function loadComplianceConfig(env: NodeJS.ProcessEnv = process.env): ComplianceConfig {
  return loadConfigOrExit(complianceConfigSchema, env, { service: 'compliance' });
}
