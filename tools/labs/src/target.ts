/**
 * What a workshop lab's checker and scripted solution talk to: the platform `npm run up` started (from
 * infra/topology.yaml, the usual case for a learner), or a platform of a test's own (tests/e2e/workshops.e2e-spec.ts
 * builds one from its e2e platform, so the labs cannot rot). Every address, credential and restart goes through here.
 */
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { DevIssuer, type Role } from '@tessera/auth';
import { createKafka, kafkaSecurityFromEnv } from '@tessera/kafka';
import type { Kafka } from 'kafkajs';
import { Client } from 'pg';
import { ensureAdminToken } from '../../../infra/local/faults';
import { KAFKA_ADMIN_PRINCIPAL, kafkaClientEnv } from '../../../infra/local/kafka-auth';
import { LocalServices } from '../../../infra/local/services';
import { databaseUrl, kafkaBrokers, loadTopology, REPO_ROOT } from '../../../infra/local/topology';
import { serviceNames } from '../../plugin/src/lib/service-names';

export type LabService = 'transactions' | 'compliance';

export interface LabTarget {
  /** The gateway's base URL, e.g. http://127.0.0.1:8080. */
  gateway: string;
  /** Authorization header of a token for a subject with these roles. */
  bearer(sub: string, roles: Role[]): Promise<Record<string, string>>;
  /** Connection strings of the payment databases (the checkers read the truth there). */
  databases: Record<LabService, string>;
  /** Zipkin's base URL (the trace backend; lab 1). */
  zipkin: string;
  /** The services' admin ports (fault toggles, /metrics) and the admin token. */
  admin: Record<LabService, string>;
  adminToken: string;
  kafka: Kafka;
  /** The transfer-events topic the platform publishes to and compliance monitors (its DLQ is `<topic>.dlq`). */
  transferEventsTopic: string;
  /** Compliance's monitor group (the consumer lab 3 breaks). */
  monitorGroup: string;
  /** Starts a service again with these extra settings (lab 2: compliance on a new rule set). */
  restart(service: LabService, env: Record<string, string>): Promise<void>;
  /** Where lab state lives (answers, lab 4's operations). */
  stateDir: string;
  /** Where the learner's rule files go (lab 2). */
  rulesDir: string;
  /** A service the generator made (lab 5), as the topology places it; undefined when the topology has none of that name. */
  generatedService(name: string): GeneratedService | undefined;
  /** The generated service lab 5's scripted solution publishes to (default `workshop-notes`). */
  labService?: string;
}

/** Where a generated service is and what it reads and writes (lab 5). */
export interface GeneratedService {
  /** The repository (or copy) it was generated into: its .proto is read from there. */
  root: string;
  databaseUrl: string;
  adminUrl: string;
  requestsTopic: string;
  eventsTopic: string;
}

export async function withDatabase<T>(url: string, fn: (db: Client) => Promise<T>): Promise<T> {
  const db = new Client({ connectionString: url });
  await db.connect();
  try {
    return await fn(db);
  } finally {
    await db.end();
  }
}

/** The platform `npm run up` started on this machine. */
export function localTarget(): LabTarget {
  const topo = loadTopology(process.env['TESSERA_TOPOLOGY'] || undefined);
  const stateDir = path.join(REPO_ROOT, topo.stateDir);
  const service = (name: string) => {
    const spec = topo.services.find((s) => s.name === name);
    if (!spec) throw new Error(`infra/topology.yaml has no service ${name}`);
    return spec;
  };
  for (const [k, v] of Object.entries(kafkaClientEnv(stateDir, KAFKA_ADMIN_PRINCIPAL))) process.env[k] ??= v;
  const labsDir = path.join(stateDir, 'labs');
  mkdirSync(labsDir, { recursive: true });
  const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
  const gatewayPort = service('gateway').port;
  return {
    gateway: `http://127.0.0.1:${gatewayPort}`,
    async bearer(sub, roles) {
      const issuer = await DevIssuer.open(path.join(stateDir, 'auth'));
      return { authorization: `Bearer ${await issuer.mint({ sub, roles, ttlSec: 3600 })}` };
    },
    databases: {
      transactions: databaseUrl(topo, 'tessera_transactions'),
      compliance: databaseUrl(topo, 'tessera_compliance'),
    },
    zipkin: `http://127.0.0.1:${topo.observability.zipkin.port}`,
    admin: {
      transactions: `http://127.0.0.1:${service('transactions').metricsPort}`,
      compliance: `http://127.0.0.1:${service('compliance').metricsPort}`,
    },
    adminToken: ensureAdminToken(stateDir),
    kafka: createKafka({
      clientId: 'tessera-labs',
      brokers: process.env['KAFKA_BROKERS']?.split(',') ?? kafkaBrokers(topo, 'single'),
      logger: quiet,
      config: kafkaSecurityFromEnv(),
    }),
    transferEventsTopic: 'payments.transfer.events.v1',
    monitorGroup: 'compliance.aml-monitor',
    async restart(name, env) {
      await new LocalServices(topo).restart([name], 120_000, (line) => console.log(`  ${line}`), env);
    },
    stateDir: labsDir,
    rulesDir: path.join(REPO_ROOT, 'services', 'compliance', 'rules'),
    generatedService(name) {
      const spec = topo.services.find((s) => s.name === name);
      if (!spec?.database || spec.metricsPort === undefined) return undefined;
      const n = serviceNames(name);
      return {
        root: REPO_ROOT,
        databaseUrl: databaseUrl(topo, spec.database),
        adminUrl: `http://127.0.0.1:${spec.metricsPort}`,
        requestsTopic: n.requestsTopic,
        eventsTopic: n.eventsTopic,
      };
    },
  };
}
