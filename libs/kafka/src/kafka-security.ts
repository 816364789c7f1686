import { readFileSync } from 'node:fs';
import { ConfigError, type ConfigIssue, loadConfig } from '@tessera/config';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import { z } from 'zod';

/**
 * How a client authenticates to the brokers, Kafka's own vocabulary (`security.protocol`, `sasl.mechanism`): read from
 * the environment by every kafkajs client this library makes (`createKafka`), so a service reaches a cluster that
 * requires TLS and SASL/SCRAM (or mTLS) by configuration alone. Each value may come from `<NAME>_FILE` (loadConfig).
 * Default PLAINTEXT (Kafka's own default). The local brokers require SASL_SSL: `npm run infra -- up` gives each service its
 * principal's settings (infra/local/kafka-auth.ts kafkaClientEnv), and `npm run infra -- kafka-env` prints the admin's.
 */
export const kafkaSecurityEnvSchema = z.object({
  /** PLAINTEXT (default), SSL (TLS, optionally mTLS), SASL_PLAINTEXT or SASL_SSL. */
  KAFKA_SECURITY_PROTOCOL: z.enum(['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL']).default('PLAINTEXT'),
  /** SASL mechanism: SCRAM-SHA-512 (default), SCRAM-SHA-256 or PLAIN (PLAIN only over SASL_SSL). */
  KAFKA_SASL_MECHANISM: z.enum(['SCRAM-SHA-512', 'SCRAM-SHA-256', 'PLAIN']).default('SCRAM-SHA-512'),
  /** The service's own principal on the brokers. */
  KAFKA_SASL_USERNAME: z
    .string()
    .min(1)
    .meta({ examples: ['transactions'] })
    .optional(),
  /** Its password (or KAFKA_SASL_PASSWORD_FILE). */
  KAFKA_SASL_PASSWORD: z
    .string()
    .min(1)
    .meta({ examples: ['<secret>'] })
    .optional(),
  /** PEM CA bundle the brokers' certificates must chain to; default the system's CAs. */
  KAFKA_TLS_CA_FILE: z
    .string()
    .min(1)
    .meta({ examples: ['.tessera/tls/ca.crt'] })
    .optional(),
  /** PEM client certificate and key, for brokers that require mTLS (SSL) or both. */
  KAFKA_TLS_CERT_FILE: z.string().min(1).optional(),
  KAFKA_TLS_KEY_FILE: z.string().min(1).optional(),
});

export type KafkaSecuritySettings = z.output<typeof kafkaSecurityEnvSchema>;

/** The kafkajs `ssl` and `sasl` settings for `env`; {} for PLAINTEXT. @throws ConfigError naming what is missing. */
export function kafkaSecurityFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  read: (file: string) => Buffer = readFileSync,
): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const cfg = loadConfig(kafkaSecurityEnvSchema, env);
  const protocol = cfg.KAFKA_SECURITY_PROTOCOL;
  const tls = protocol === 'SSL' || protocol === 'SASL_SSL';
  const sasl = protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL';
  const issues: ConfigIssue[] = [];
  if (sasl && (!cfg.KAFKA_SASL_USERNAME || !cfg.KAFKA_SASL_PASSWORD))
    issues.push({
      variable: 'KAFKA_SASL_USERNAME',
      reason: `${protocol} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE)`,
    });
  if (sasl && !tls && cfg.KAFKA_SASL_MECHANISM === 'PLAIN')
    issues.push({
      variable: 'KAFKA_SASL_MECHANISM',
      reason: 'PLAIN sends the password in clear: use it only with KAFKA_SECURITY_PROTOCOL=SASL_SSL',
    });
  if (Boolean(cfg.KAFKA_TLS_CERT_FILE) !== Boolean(cfg.KAFKA_TLS_KEY_FILE))
    issues.push({ variable: 'KAFKA_TLS_CERT_FILE', reason: 'set KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE together' });
  if (!tls && (cfg.KAFKA_TLS_CA_FILE || cfg.KAFKA_TLS_CERT_FILE))
    issues.push({
      variable: 'KAFKA_SECURITY_PROTOCOL',
      reason: `TLS files are set but KAFKA_SECURITY_PROTOCOL=${protocol} does not use TLS (SSL or SASL_SSL)`,
    });
  if (issues.length > 0) throw new ConfigError(issues, 'kafka');
  const out: Pick<KafkaConfig, 'ssl' | 'sasl'> = {};
  if (tls) {
    const files = { ca: cfg.KAFKA_TLS_CA_FILE, cert: cfg.KAFKA_TLS_CERT_FILE, key: cfg.KAFKA_TLS_KEY_FILE };
    const opts = Object.fromEntries(Object.entries(files).flatMap(([k, f]) => (f ? [[k, k === 'ca' ? [read(f)] : read(f)]] : [])));
    out.ssl = Object.keys(opts).length > 0 ? opts : true;
  }
  if (sasl) {
    const mechanism = cfg.KAFKA_SASL_MECHANISM.toLowerCase() as 'scram-sha-512' | 'scram-sha-256' | 'plain';
    out.sasl = { mechanism, username: cfg.KAFKA_SASL_USERNAME as string, password: cfg.KAFKA_SASL_PASSWORD as string } as SASLOptions;
  }
  return out;
}
