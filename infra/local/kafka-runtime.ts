import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { InfraError } from './errors';
import { ensureDir } from './proc';
import { REPO_ROOT } from './topology';

export const KAFKA_POM = path.join(REPO_ROOT, 'infra', 'kafka', 'pom.xml');
export const KAFKA_LOG4J2 = path.join(REPO_ROOT, 'infra', 'kafka', 'log4j2.xml');
export const KAFKA_CACHE = path.join(REPO_ROOT, '.cache', 'kafka');
export const KAFKA_LIBS = path.join(KAFKA_CACHE, 'libs');
/** sha256 of the pom the jars were resolved from; scripts/bootstrap.sh writes the same stamp. */
const STAMP = path.join(KAFKA_CACHE, 'pom.sha256');

const JAVA_FIX = 'apt-get install -y openjdk-17-jre-headless maven   (or: bash scripts/bootstrap.sh)';

/** Checks that a Java 17+ runtime is on PATH (Kafka 4 brokers need 17). Returns the major version. */
export function assertJava(): number {
  const res = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (res.error) throw new InfraError('java not found on PATH (Kafka needs a Java 17+ runtime)', JAVA_FIX);
  const m = /version "(\d+)(?:\.(\d+))?/.exec(res.stderr);
  const major = m ? (m[1] === '1' ? Number(m[2]) : Number(m[1])) : 0;
  if (major < 17) throw new InfraError(`java ${major || '?'} found, Kafka 4 needs Java 17 or newer`, JAVA_FIX);
  return major;
}

function pomHash(): string {
  return createHash('sha256').update(readFileSync(KAFKA_POM)).digest('hex');
}

export function jarsCurrent(): boolean {
  return (
    existsSync(KAFKA_LIBS) &&
    readdirSync(KAFKA_LIBS).some((f) => /^kafka_2\.13-.*\.jar$/.test(f)) &&
    existsSync(STAMP) &&
    readFileSync(STAMP, 'utf8').trim().split(/\s+/)[0] === pomHash()
  );
}

/**
 * Makes sure .cache/kafka/libs holds exactly the jars infra/kafka/pom.xml resolves. Re-resolves (with Maven's
 * download progress on the terminal) when the pom changed, so a version bump never mixes two Kafkas.
 */
export function ensureKafkaJars(log: (line: string) => void): void {
  if (jarsCurrent()) return;
  const mvn = spawnSync('mvn', ['-v'], { encoding: 'utf8' });
  if (mvn.error) throw new InfraError('Kafka jars are not in .cache/kafka/libs and mvn is not installed to fetch them', JAVA_FIX);
  log('resolving Kafka jars from Maven Central into .cache/kafka/libs (first run only)');
  rmSync(KAFKA_LIBS, { recursive: true, force: true });
  ensureDir(KAFKA_LIBS);
  const res = spawnSync('mvn', ['-B', '-Dstyle.color=never', '-f', KAFKA_POM, 'dependency:copy-dependencies'], { stdio: 'inherit' });
  if (res.status !== 0) {
    throw new InfraError(
      'mvn could not resolve the Kafka jars',
      'check network access to Maven Central, then rerun `bash scripts/bootstrap.sh`',
    );
  }
  writeFileSync(STAMP, `${pomHash()}  infra/kafka/pom.xml\n`);
}

export function kafkaClasspath(): string {
  return `${KAFKA_LIBS}/*`;
}

/** A KRaft cluster id: 16 random bytes, base64url without padding (what `kafka-storage random-uuid` prints). */
export function newClusterId(random: (n: number) => Buffer): string {
  for (;;) {
    const id = random(16).toString('base64url');
    if (!id.startsWith('-')) return id; // Kafka rejects ids that look like CLI flags
  }
}

export interface NodeProps {
  nodeId: number;
  host: string;
  port: number;
  controllerPort: number;
  voters: { id: number; controllerPort: number }[];
  dataDir: string;
  replicationFactor: number;
  minInsyncReplicas: number;
  /** Listener security (issue #13): see kafka-auth.ts. */
  security: BrokerSecurity;
  /**
   * Client listeners, all SASL_SSL; the first also carries inter-broker traffic. Default one, `SASL_SSL` on host:port.
   * docker-compose has two: INTERNAL for containers (kafka-broker:9092) and EXTERNAL for the host (127.0.0.1:19092).
   */
  listeners?: { name: string; bind: string; advertised: string }[];
}

export interface BrokerSecurity {
  /** PEM file with the broker's PKCS#8 key and certificate (CN=kafka-broker, SAN IP of the host). */
  keystorePem: string;
  /** PEM CA bundle: clients' server check and the controller listener's client certificates. */
  truststorePem: string;
  /** SCRAM password of the inter-broker principal. */
  brokerPassword: string;
  brokerPrincipal: string;
  superUsers: string[];
}

/** server.properties for one combined broker+controller node. Tuned down for a dev box, not for throughput. */
export function serverProperties(p: NodeProps): string {
  const voters = p.voters.map((v) => `${v.id}@${p.host}:${v.controllerPort}`).join(',');
  const rf = p.replicationFactor;
  const listeners = p.listeners ?? [{ name: 'SASL_SSL', bind: `${p.host}:${p.port}`, advertised: `${p.host}:${p.port}` }];
  const jaas = `org.apache.kafka.common.security.scram.ScramLoginModule required username="${p.security.brokerPrincipal}" password="${p.security.brokerPassword}";`;
  const entries: [string, string | number | boolean][] = [
    ['process.roles', 'broker,controller'],
    ['node.id', p.nodeId],
    ['controller.quorum.voters', voters],
    // Clients and brokers: TLS + SASL/SCRAM (each service its own principal). Controllers: TLS with client
    // certificates only (the brokers' own), so nothing without the broker's key reaches the quorum.
    ['listeners', [...listeners.map((l) => `${l.name}://${l.bind}`), `CONTROLLER://${p.host}:${p.controllerPort}`].join(',')],
    ['advertised.listeners', listeners.map((l) => `${l.name}://${l.advertised}`).join(',')],
    ['listener.security.protocol.map', [...listeners.map((l) => `${l.name}:SASL_SSL`), 'CONTROLLER:SSL'].join(',')],
    ['controller.listener.names', 'CONTROLLER'],
    ['inter.broker.listener.name', listeners[0]?.name ?? 'SASL_SSL'],
    ['sasl.enabled.mechanisms', 'SCRAM-SHA-512'],
    ['sasl.mechanism.inter.broker.protocol', 'SCRAM-SHA-512'],
    ...listeners.map((l): [string, string] => [`listener.name.${l.name.toLowerCase()}.scram-sha-512.sasl.jaas.config`, jaas]),
    ['ssl.keystore.type', 'PEM'],
    ['ssl.keystore.location', p.security.keystorePem],
    ['ssl.truststore.type', 'PEM'],
    ['ssl.truststore.location', p.security.truststorePem],
    ['listener.name.controller.ssl.client.auth', 'required'],
    // A certificate's principal is its CN (User:kafka-broker), as SCRAM principals are user names.
    ['ssl.principal.mapping.rules', 'RULE:^CN=([^,]+).*$/$1/,DEFAULT'],
    ['authorizer.class.name', 'org.apache.kafka.metadata.authorizer.StandardAuthorizer'],
    ['super.users', p.security.superUsers.map((u) => `User:${u}`).join(';')],
    ['allow.everyone.if.no.acl.found', false],
    ['log.dirs', p.dataDir],
    // Topics come from infra/topology.yaml only; a typo in a topic name fails instead of creating a stray topic.
    ['auto.create.topics.enable', false],
    ['num.partitions', 3],
    ['default.replication.factor', rf],
    ['min.insync.replicas', p.minInsyncReplicas],
    ['offsets.topic.replication.factor', rf],
    ['offsets.topic.num.partitions', 12],
    ['transaction.state.log.replication.factor', rf],
    ['transaction.state.log.min.isr', p.minInsyncReplicas],
    ['transaction.state.log.num.partitions', 12],
    ['share.coordinator.state.topic.replication.factor', rf],
    ['share.coordinator.state.topic.min.isr', p.minInsyncReplicas],
    ['unclean.leader.election.enable', false],
    // Consumers in tests join immediately instead of waiting 3 s for more members.
    ['group.initial.rebalance.delay.ms', 0],
    ['num.network.threads', 2],
    ['num.io.threads', 4],
    ['num.recovery.threads.per.data.dir', 1],
    ['background.threads', 4],
    ['log.cleaner.threads', 1],
    // The cleaner's dedupe buffer is heap; the 128 MB default would be a third of a small broker's heap.
    ['log.cleaner.dedupe.buffer.size', 16 * 1024 * 1024],
    ['log.segment.bytes', 64 * 1024 * 1024],
    ['log.retention.check.interval.ms', 60000],
  ];
  return [
    '# Written by infra/local from infra/topology.yaml; regenerated on every `up`. Holds a password: mode 0600.',
    ...entries.map(([k, v]) => `${k}=${v}`),
    '',
  ].join('\n');
}

/** JVM flags: fixed heap from the topology, plus caps on the non-heap areas that otherwise grow with RAM. */
export function jvmArgs(heapMb: number, logsDir: string): string[] {
  return [
    `-Xms${heapMb}m`,
    `-Xmx${heapMb}m`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:InitiatingHeapOccupancyPercent=35',
    '-XX:+ExplicitGCInvokesConcurrent',
    '-XX:MaxMetaspaceSize=160m',
    '-XX:ReservedCodeCacheSize=64m',
    '-XX:MaxDirectMemorySize=128m',
    '-Xss512k',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${KAFKA_LOG4J2}`,
    `-Dkafka.logs.dir=${logsDir}`,
  ];
}
