/**
 * Kafka authentication and authorisation of the local cluster (issue #13), derived from infra/topology.yaml:
 *  - every client authenticates with SASL/SCRAM-SHA-512 over TLS (listener SASL_SSL; the broker's certificate comes
 *    from the dev CA in `.tessera/tls`); the controller listener takes mTLS only (the broker's own certificate);
 *  - principals: `kafka-broker` (inter-broker, super user), `tessera-admin` (this CLI, tests, benches and operators'
 *    tools, super user) and one per service that uses Kafka, named like the service;
 *  - ACLs for the service principals say exactly what the topology says (see {@link desiredAcls});
 *    `allow.everyone.if.no.acl.found=false`, so anything else is refused.
 * Passwords are random, made on the first `up` and kept in `.tessera/kafka/auth/<principal>.password` (mode 0600):
 * they live and die with the cluster's metadata (wiped together by `reset --only kafka`).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes, type Admin, type KafkaConfig } from 'kafkajs';
import type { Topology } from './topology';

export const KAFKA_BROKER_PRINCIPAL = 'kafka-broker';
export const KAFKA_ADMIN_PRINCIPAL = 'tessera-admin';
export const KAFKA_SASL_MECHANISM = 'SCRAM-SHA-512';

/** Service principals: every service that produces, consumes or observes. */
export function servicePrincipals(topo: Topology): string[] {
  return topo.services.filter((s) => s.produces.length + s.consumes.length + s.observes.length > 0).map((s) => s.name);
}

/** Every SCRAM user of the cluster: the broker, the admin, then the services. */
export function kafkaPrincipals(topo: Topology): string[] {
  return [KAFKA_BROKER_PRINCIPAL, KAFKA_ADMIN_PRINCIPAL, ...servicePrincipals(topo)];
}

/** `.tessera/kafka/auth` (or under another state dir, e.g. a container's mount point). */
export function kafkaAuthDir(stateDir: string): string {
  return path.join(stateDir, 'kafka', 'auth');
}

export function passwordFile(stateDir: string, principal: string): string {
  return path.join(kafkaAuthDir(stateDir), `${principal}.password`);
}

/** The principal's password, created (random, 0600) on first use. */
export function ensurePassword(stateDir: string, principal: string): string {
  const file = passwordFile(stateDir, principal);
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    // base64url: no character that needs quoting in a JAAS line or StorageTool's [name=..,password=..] syntax.
    writeFileSync(file, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return readFileSync(file, 'utf8').trim();
}

/**
 * The client settings of libs/kafka (kafka-security.ts) for `principal`: what serviceEnv gives each service and what
 * tests and tools use as `tessera-admin`. The password stays in its file (KAFKA_SASL_PASSWORD_FILE), never in env dumps.
 */
export function kafkaClientEnv(stateDir: string, principal: string): Record<string, string> {
  return {
    KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
    KAFKA_SASL_MECHANISM,
    KAFKA_SASL_USERNAME: principal,
    KAFKA_SASL_PASSWORD_FILE: path.posix.join(stateDir, 'kafka', 'auth', `${principal}.password`),
    KAFKA_TLS_CA_FILE: path.posix.join(stateDir, 'tls', 'ca.crt'),
  };
}

/**
 * kafkajs `ssl` + `sasl` for `principal` (infra's own clients; services and tests go through libs/kafka's
 * kafkaSecurityFromEnv with {@link kafkaClientEnv}, but this CLI must run before the libs are built).
 */
export function kafkaJsAuth(stateDir: string, principal: string = KAFKA_ADMIN_PRINCIPAL): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  return {
    ssl: { ca: [readFileSync(path.join(stateDir, 'tls', 'ca.crt'))] },
    sasl: { mechanism: 'scram-sha-512', username: principal, password: ensurePassword(stateDir, principal) },
  };
}

/** Java client properties (kafka-tools' --command-config / --producer.config) for `principal`. */
export function javaClientProperties(stateDir: string, principal: string): string {
  const password = ensurePassword(stateDir, principal);
  return [
    'security.protocol=SASL_SSL',
    `sasl.mechanism=${KAFKA_SASL_MECHANISM}`,
    `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${principal}" password="${password}";`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${path.join(stateDir, 'tls', 'ca.crt')}`,
    '',
  ].join('\n');
}

/** Writes `.tessera/kafka/auth/<principal>.properties` (0600) and returns its path. */
export function writeJavaClientProperties(stateDir: string, principal: string): string {
  const file = path.join(kafkaAuthDir(stateDir), `${principal}.properties`);
  writeFileSync(file, javaClientProperties(stateDir, principal), { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

/** One ACL binding, in Kafka's terms (all ALLOW, host *). */
export interface AclEntry {
  principal: string;
  resourceType: 'TOPIC' | 'GROUP' | 'TRANSACTIONAL_ID';
  resourceName: string;
  patternType: 'LITERAL' | 'PREFIXED';
  operation: 'READ' | 'WRITE' | 'DESCRIBE' | 'DELETE';
}

export const aclKey = (a: AclEntry): string => `${a.principal}|${a.resourceType}|${a.patternType}|${a.resourceName}|${a.operation}`;

/**
 * The ACLs of every service principal, from the topology:
 *  - `produces` T: WRITE + DESCRIBE on topic T (an idempotent producer needs nothing more since Kafka 3.x);
 *  - `consumes` T: READ + DESCRIBE on topic T, and READ + DESCRIBE + DELETE on its groups `<service>.*` (DELETE:
 *    throwaway reader groups, e.g. transactions' checkpoint reader, are removed after use);
 *  - `transactionalIdPrefix` P: WRITE + DESCRIBE on transactional ids starting with P;
 *  - `observes` S: DESCRIBE on S's groups `<S>.*` and on the topics S consumes (consumer lag, nothing else).
 */
export function desiredAcls(topo: Topology): AclEntry[] {
  const out = new Map<string, AclEntry>();
  const add = (a: AclEntry) => out.set(aclKey(a), a);
  for (const s of topo.services) {
    const principal = `User:${s.name}`;
    for (const t of s.produces)
      for (const operation of ['WRITE', 'DESCRIBE'] as const)
        add({ principal, resourceType: 'TOPIC', resourceName: t, patternType: 'LITERAL', operation });
    for (const t of s.consumes)
      for (const operation of ['READ', 'DESCRIBE'] as const)
        add({ principal, resourceType: 'TOPIC', resourceName: t, patternType: 'LITERAL', operation });
    if (s.consumes.length > 0) {
      for (const operation of ['READ', 'DESCRIBE', 'DELETE'] as const)
        add({ principal, resourceType: 'GROUP', resourceName: `${s.name}.`, patternType: 'PREFIXED', operation });
    }
    if (s.transactionalIdPrefix !== undefined) {
      for (const operation of ['WRITE', 'DESCRIBE'] as const)
        add({ principal, resourceType: 'TRANSACTIONAL_ID', resourceName: s.transactionalIdPrefix, patternType: 'PREFIXED', operation });
    }
    for (const observed of s.observes) {
      add({ principal, resourceType: 'GROUP', resourceName: `${observed}.`, patternType: 'PREFIXED', operation: 'DESCRIBE' });
      for (const t of topo.services.find((x) => x.name === observed)?.consumes ?? [])
        add({ principal, resourceType: 'TOPIC', resourceName: t, patternType: 'LITERAL', operation: 'DESCRIBE' });
    }
  }
  return [...out.values()];
}

const RESOURCE = {
  TOPIC: AclResourceTypes.TOPIC,
  GROUP: AclResourceTypes.GROUP,
  TRANSACTIONAL_ID: AclResourceTypes.TRANSACTIONAL_ID,
} as const;
const PATTERN = { LITERAL: ResourcePatternTypes.LITERAL, PREFIXED: ResourcePatternTypes.PREFIXED } as const;
const OPERATION = {
  READ: AclOperationTypes.READ,
  WRITE: AclOperationTypes.WRITE,
  DESCRIBE: AclOperationTypes.DESCRIBE,
  DELETE: AclOperationTypes.DELETE,
} as const;
const byValue = <T extends Record<string, number>>(m: T, v: number) =>
  Object.entries(m).find(([, x]) => x === v)?.[0] as keyof T | undefined;

export interface AclOutcome {
  created: number;
  deleted: number;
  kept: number;
}

/**
 * Makes the cluster's ACLs for the service principals equal to {@link desiredAcls}: creates the missing ones and deletes
 * the ones the topology no longer grants (a topic removed from `consumes` loses its READ). ACLs of other principals
 * (an operator's own) are left alone.
 */
export async function ensureAcls(admin: Admin, topo: Topology): Promise<AclOutcome> {
  const desired = desiredAcls(topo);
  const wanted = new Map(desired.map((a) => [aclKey(a), a]));
  const managed = new Set(topo.services.map((s) => `User:${s.name}`));
  const current = await admin.describeAcls({
    resourceType: AclResourceTypes.ANY,
    resourcePatternType: ResourcePatternTypes.ANY,
    operation: AclOperationTypes.ANY,
    permissionType: AclPermissionTypes.ANY,
  });
  const existing = new Map<string, AclEntry>();
  const stale: Parameters<Admin['deleteAcls']>[0]['filters'] = [];
  for (const r of current.resources) {
    const resourceType = byValue(RESOURCE, r.resourceType);
    const patternType = byValue(PATTERN, r.resourcePatternType);
    for (const acl of r.acls) {
      if (!managed.has(acl.principal)) continue;
      const operation = byValue(OPERATION, acl.operation);
      const entry =
        resourceType && patternType && operation
          ? { principal: acl.principal, resourceType, resourceName: r.resourceName, patternType, operation }
          : undefined;
      if (entry && acl.permissionType === AclPermissionTypes.ALLOW && acl.host === '*' && wanted.has(aclKey(entry)))
        existing.set(aclKey(entry), entry);
      // Anything else of a service principal goes, matched by its exact values (operation, permission and host).
      else
        stale.push({
          resourceType: r.resourceType,
          resourceName: r.resourceName,
          resourcePatternType: r.resourcePatternType,
          principal: acl.principal,
          host: acl.host,
          operation: acl.operation,
          permissionType: acl.permissionType,
        });
    }
  }
  const missing = desired.filter((a) => !existing.has(aclKey(a)));
  if (missing.length > 0) {
    await admin.createAcls({
      acl: missing.map((a) => ({
        resourceType: RESOURCE[a.resourceType],
        resourceName: a.resourceName,
        resourcePatternType: PATTERN[a.patternType],
        principal: a.principal,
        host: '*',
        operation: OPERATION[a.operation],
        permissionType: AclPermissionTypes.ALLOW,
      })),
    });
  }
  if (stale.length > 0) await admin.deleteAcls({ filters: stale });
  return { created: missing.length, deleted: stale.length, kept: existing.size };
}
