/**
 * The bench's identity on the local brokers, which require TLS + SASL/SCRAM-SHA-512 (issue #13, infra/local/kafka-auth.ts).
 * The bench connects as `tessera-admin` (super user): it creates, drains and deletes its own topics and consumer
 * groups, which no service principal may (their ACLs cover the topology's names only). Services the bench runs on the
 * topology's own names keep their own principals (serviceEnv); only processes it points at bench-private topics,
 * groups or transactional ids get the bench's credentials ({@link benchKafkaCredentials}).
 */
import * as path from 'node:path';
import { KAFKA_ADMIN_PRINCIPAL, kafkaClientEnv, writeJavaClientProperties } from '../../../infra/local/kafka-auth';
import { REPO_ROOT, type Topology } from '../../../infra/local/topology';

const stateDir = (topo: Topology) => path.join(REPO_ROOT, topo.stateDir);

/**
 * Puts tessera-admin's client env (KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_*, KAFKA_TLS_CA_FILE: what libs/kafka
 * kafkaSecurityFromEnv reads) into `env`, so the bench's kafkajs clients and every child that inherits its env
 * authenticate. Values already set win (a run against another cluster sets its own), as in tests/support/kafka-client.setup.ts;
 * a password given directly (KAFKA_SASL_PASSWORD) is not paired with the admin's password file (both set is an error).
 */
export function useAdminKafkaEnv(topo: Topology, env: NodeJS.ProcessEnv = process.env): void {
  for (const [key, value] of Object.entries(kafkaClientEnv(stateDir(topo), KAFKA_ADMIN_PRINCIPAL))) {
    if (key === 'KAFKA_SASL_PASSWORD_FILE' && env['KAFKA_SASL_PASSWORD']) continue;
    env[key] ??= value;
  }
}

/**
 * The bench's own SASL credentials (tessera-admin unless the caller set others) as overrides of a service's
 * environment: a service process the bench launches on bench-private topics, groups or transactional ids cannot use
 * the service's principal, whose ACLs cover only the topology's names. The variable not in use is set empty (empty
 * counts as unset for libs/config and the Go processor), so the service's own KAFKA_SASL_PASSWORD_FILE goes.
 */
export function benchKafkaCredentials(topo: Topology, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  if (!env['KAFKA_SASL_USERNAME']) {
    const admin = kafkaClientEnv(stateDir(topo), KAFKA_ADMIN_PRINCIPAL);
    return {
      KAFKA_SASL_USERNAME: KAFKA_ADMIN_PRINCIPAL,
      KAFKA_SASL_PASSWORD: '',
      KAFKA_SASL_PASSWORD_FILE: admin['KAFKA_SASL_PASSWORD_FILE'] as string,
    };
  }
  return {
    KAFKA_SASL_USERNAME: env['KAFKA_SASL_USERNAME'],
    KAFKA_SASL_PASSWORD: env['KAFKA_SASL_PASSWORD'] ?? '',
    KAFKA_SASL_PASSWORD_FILE: env['KAFKA_SASL_PASSWORD_FILE'] ?? '',
  };
}

/** tessera-admin's Java client properties (`.tessera/kafka/auth/tessera-admin.properties`) for Kafka's tools' --command-config. */
export function adminJavaClientConfig(topo: Topology): string {
  return writeJavaClientProperties(stateDir(topo), KAFKA_ADMIN_PRINCIPAL);
}
