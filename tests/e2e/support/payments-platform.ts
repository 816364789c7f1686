import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { PG_ADMIN_URL, throwawayDatabase, type ThrowawayDatabase } from '@tessera/testing';
import { deleteConsumerGroups, kafkaSecurityFromEnv } from '@tessera/kafka';
import { checkHealth } from '@tessera/grpc';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { createCredentials, type E2eCredentials } from './credentials';
import { OtlpReceiver } from './otlp-receiver';
import { restartService, ROOT, type RunningService, type ServiceSpec, startServices, stopServices } from './platform';

export interface PaymentsPlatform {
  run: string;
  gateway: string;
  services: RunningService[];
  /** Receives every span and log record the services export (OTLP/HTTP). */
  otlp: OtlpReceiver;
  /** Connected to the transactions and compliance databases of this run. */
  tx: Client;
  co: Client;
  /** This run's consumer groups (compliance's AML monitor, transactions' pings). */
  groups: { monitor: string; pings: string };
  /** The databases' URLs (a chaos scenario reconnects after restarting PostgreSQL). */
  urls: { transactions: string; compliance: string };
  /** This run's token issuer, API keys and mTLS material (every service runs with mTLS and real auth). */
  creds: E2eCredentials;
  /** Starts a service again (after a kill -9 of a chaos scenario, or kills it first), with the same settings plus `env`. */
  restart(name: 'gateway' | 'transactions' | 'compliance', env?: Record<string, string>): Promise<void>;
  stop(): Promise<void>;
}

/** The console's trace links (gateway TESSERA_TRACE_URL); no trace UI runs here, the specs read the href. */
export const TRACE_URL_TEMPLATE = 'http://127.0.0.1:9411/zipkin/traces/{traceId}';

const KAFKA = process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092';

/**
 * compliance, transactions and gateway as real processes on their own ports (`portBase` + offsets), with
 * throwaway databases and consumer groups per run, so e2e suites never share state with each other or
 * with a platform started by `npm run up`. Auth and transport are as in production: tokens from a per-run dev
 * issuer, mTLS with a per-run dev CA (no plaintext), so the specs exercise the real security chain.
 */
export async function startPaymentsPlatform(
  portBase: number,
  options: { pgAdminUrl?: string; env?: Record<string, string> } = {},
): Promise<PaymentsPlatform> {
  // tests/chaos passes its own PostgreSQL (one it may stop) and extra settings (e.g. shorter pool waits).
  const ADMIN_URL = options.pgAdminUrl ?? PG_ADMIN_URL;
  const extra = options.env ?? {};
  const run = randomBytes(3).toString('hex');
  const groups = { monitor: `compliance.aml-monitor-e2e-${run}`, pings: `transactions.pings-e2e-${run}` };
  const migrated = (svc: string, prefix: string) =>
    throwawayDatabase(prefix, join(ROOT, `services/${svc}/prisma/migrations`), { adminUrl: ADMIN_URL });
  const dbs = {
    transactions: await migrated('transactions', 'tessera_e2e_tx'),
    compliance: await migrated('compliance', 'tessera_e2e_co'),
  };
  const url = (db: ThrowawayDatabase) => db.url;
  const ports = { gateway: portBase, transactions: portBase + 1, compliance: portBase + 2 };
  const gateway = `http://127.0.0.1:${ports.gateway}`;
  const creds = await createCredentials();
  const health = { timeoutMs: 1000, credentials: creds.grpc };
  const otlp = await OtlpReceiver.start();
  const specs: ServiceSpec[] = [
    {
      name: 'compliance',
      env: {
        ...creds.env,
        COMPLIANCE_GRPC_PORT: String(ports.compliance),
        COMPLIANCE_DATABASE_URL: url(dbs.compliance),
        KAFKA_BROKERS: KAFKA,
        TRANSACTIONS_ADDR: `127.0.0.1:${ports.transactions}`,
        COMPLIANCE_MONITOR_GROUP: groups.monitor,
        ...extra,
      },
      ready: async () => (await checkHealth(`127.0.0.1:${ports.compliance}`, '', health)) === 'SERVING',
    },
    {
      name: 'transactions',
      env: {
        ...creds.env,
        TRANSACTIONS_GRPC_PORT: String(ports.transactions),
        TRANSACTIONS_DATABASE_URL: url(dbs.transactions),
        KAFKA_BROKERS: KAFKA,
        COMPLIANCE_ADDR: `127.0.0.1:${ports.compliance}`,
        TRANSACTIONS_PINGS_GROUP: groups.pings,
        // This run's own anchor: another platform's checkpoints on the shared broker would not match this database.
        TRANSACTIONS_AUDIT_CHECKPOINT_TOPIC: `e2e.audit-checkpoints.${run}`,
        TRANSACTIONS_AUDIT_CHECKPOINT_MS: '500',
        ...extra,
      },
      ready: async () => (await checkHealth(`127.0.0.1:${ports.transactions}`, 'tessera.payments.v1.AccountService', health)) === 'SERVING',
    },
    {
      name: 'gateway',
      env: {
        ...creds.env,
        GATEWAY_HTTP_PORT: String(ports.gateway),
        TESSERA_TRACE_URL: TRACE_URL_TEMPLATE,
        TRANSACTIONS_ADDR: `127.0.0.1:${ports.transactions}`,
        COMPLIANCE_ADDR: `127.0.0.1:${ports.compliance}`,
        KAFKA_BROKERS: KAFKA,
        ...extra,
      },
      ready: async () => (await fetch(`${gateway}/health`)).status === 200,
    },
  ];
  const services = await startServices(specs, otlp).catch(async (error: unknown) => {
    await otlp.stop();
    throw error;
  });
  const tx = new Client({ connectionString: url(dbs.transactions) });
  const co = new Client({ connectionString: url(dbs.compliance) });
  await Promise.all([tx.connect(), co.connect()]);
  return {
    run,
    gateway,
    services,
    otlp,
    tx,
    co,
    urls: { transactions: url(dbs.transactions), compliance: url(dbs.compliance) },
    groups,
    restart: (name, env) => restartService(services, specs, name, otlp, env),
    creds,
    async stop() {
      await stopServices(services);
      // Throwaway groups would otherwise pile up on the broker and in the console's lag panel (compliance.*, transactions.*).
      await deleteConsumerGroups(
        new Kafka({ ...kafkaSecurityFromEnv(), clientId: `e2e-cleanup-${run}`, brokers: KAFKA.split(','), logLevel: logLevel.NOTHING }),
        Object.values(groups),
      );
      await otlp.stop();
      creds.cleanup();
      await Promise.allSettled([tx.end(), co.end()]);
      for (const db of Object.values(dbs)) await db.drop();
    },
  };
}
