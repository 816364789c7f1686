import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  aclKey,
  desiredAcls,
  ensurePassword,
  javaClientProperties,
  kafkaClientEnv,
  kafkaPrincipals,
  servicePrincipals,
  type AclEntry,
} from './kafka-auth';
import { loadTopology, parseTopology } from './topology';

const topo = loadTopology();
const acls = desiredAcls(topo);
const of = (principal: string) =>
  acls
    .filter((a) => a.principal === `User:${principal}`)
    .map(aclKey)
    .sort();
const key = (
  principal: string,
  resourceType: AclEntry['resourceType'],
  resourceName: string,
  patternType: AclEntry['patternType'],
  operation: AclEntry['operation'],
) => aclKey({ principal: `User:${principal}`, resourceType, resourceName, patternType, operation });

describe('desiredAcls', () => {
  it('gives ingest WRITE on the raw topic and nothing else (no group: it consumes nothing)', () => {
    expect(of('ingest')).toEqual(
      [
        key('ingest', 'TOPIC', 'analytics.events.raw.v1', 'LITERAL', 'DESCRIBE'),
        key('ingest', 'TOPIC', 'analytics.events.raw.v1', 'LITERAL', 'WRITE'),
      ].sort(),
    );
  });

  it('gives a consumer READ on its topics and its own groups only', () => {
    const compliance = of('compliance');
    expect(compliance).toContain(key('compliance', 'TOPIC', 'payments.transfer.events.v1', 'LITERAL', 'READ'));
    expect(compliance).toContain(key('compliance', 'GROUP', 'compliance.', 'PREFIXED', 'READ'));
    expect(compliance).not.toContain(key('compliance', 'TOPIC', 'payments.transfer.events.v1', 'LITERAL', 'WRITE'));
    expect(compliance.filter((k) => k.includes('|GROUP|'))).toEqual(
      [
        key('compliance', 'GROUP', 'compliance.', 'PREFIXED', 'DELETE'),
        key('compliance', 'GROUP', 'compliance.', 'PREFIXED', 'DESCRIBE'),
        key('compliance', 'GROUP', 'compliance.', 'PREFIXED', 'READ'),
      ].sort(),
    );
  });

  it('grants transactional ids only to services that declare a prefix', () => {
    const txn = acls.filter((a) => a.resourceType === 'TRANSACTIONAL_ID');
    expect(new Set(txn.map((a) => a.principal))).toEqual(
      new Set(topo.services.filter((s) => s.transactionalIdPrefix).map((s) => `User:${s.name}`)),
    );
    expect(of('stream-processor')).toContain(
      key('stream-processor', 'TRANSACTIONAL_ID', 'stream-processor-analytics.', 'PREFIXED', 'WRITE'),
    );
  });

  it('lets the gateway describe the groups it observes, never read them', () => {
    const gateway = acls.filter((a) => a.principal === 'User:gateway');
    expect(gateway.filter((a) => a.resourceType === 'GROUP').every((a) => a.operation === 'DESCRIBE')).toBe(true);
    expect(gateway.some((a) => a.operation === 'READ')).toBe(false);
    expect(of('gateway')).toContain(key('gateway', 'GROUP', 'stream-processor.', 'PREFIXED', 'DESCRIBE'));
  });

  it('never grants a topic the topology does not declare, nor anything on the cluster', () => {
    const declared = new Set(topo.topics.map((t) => t.name));
    for (const a of acls.filter((x) => x.resourceType === 'TOPIC')) expect(declared.has(a.resourceName)).toBe(true);
    expect(acls.every((a) => ['TOPIC', 'GROUP', 'TRANSACTIONAL_ID'].includes(a.resourceType))).toBe(true);
  });

  it('follows the topology: a topic dropped from consumes loses its READ', () => {
    const text = readFileSync(path.join(__dirname, '..', 'topology.yaml'), 'utf8').replace(
      'consumes: [payments.transfer.events.v1]',
      'consumes: []',
    );
    const changed = desiredAcls(parseTopology(text));
    expect(changed.some((a) => a.principal === 'User:compliance' && a.operation === 'READ')).toBe(false);
  });
});

describe('principals and credentials', () => {
  it('has the broker, the admin and every service that uses Kafka', () => {
    expect(kafkaPrincipals(topo).slice(0, 2)).toEqual(['kafka-broker', 'tessera-admin']);
    expect(servicePrincipals(topo)).toEqual(
      expect.arrayContaining(['gateway', 'transactions', 'compliance', 'ingest', 'insights', 'stream-processor', 'stream-processor-go']),
    );
  });

  it('makes a random password once, private to its owner, and keeps it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kafka-auth-'));
    const first = ensurePassword(dir, 'ingest');
    expect(first).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(ensurePassword(dir, 'ingest')).toBe(first);
    expect(ensurePassword(dir, 'insights')).not.toBe(first);
    expect(statSync(path.join(dir, 'kafka', 'auth', 'ingest.password')).mode & 0o777).toBe(0o600);
    expect(javaClientProperties(dir, 'ingest')).toContain(`username="ingest" password="${first}";`);
  });

  it('hands clients the password as a file, never as a value', () => {
    const env = kafkaClientEnv('/state', 'insights');
    expect(env).toEqual({
      KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: 'insights',
      KAFKA_SASL_PASSWORD_FILE: '/state/kafka/auth/insights.password',
      KAFKA_TLS_CA_FILE: '/state/tls/ca.crt',
    });
  });
});
