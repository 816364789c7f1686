import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { COMPOSE_PATH, renderCompose } from './compose';
import { envPrefix, loadTopology, REPO_ROOT } from './topology';

interface ComposeService {
  image?: string;
  ports?: string[];
  environment?: Record<string, string>;
  command?: string[];
  profiles?: string[];
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
}

const topo = loadTopology();
const committedText = readFileSync(COMPOSE_PATH, 'utf8');
const compose = parse(committedText) as { services: Record<string, ComposeService> };

describe('renderCompose', () => {
  it('matches the committed docker-compose.yml (regenerate: npx tsx infra/local/compose.ts --write)', () => {
    // Compare as text so any hand edit, even to a comment, is caught.
    expect(committedText).toBe(renderCompose(topo));
  });

  it('publishes every service port, postgres and kafka on the topology ports', () => {
    for (const s of topo.services) {
      const svc = compose.services[s.name];
      expect(svc).toBeDefined();
      const published = [s.port, s.metricsPort].filter((p) => p !== undefined).map((p) => `${p}:${p}`);
      expect(svc!.ports).toEqual(published.length === 0 ? undefined : published);
      if (s.port !== undefined) expect(svc!.environment![`${envPrefix(s.name)}_${s.kind.toUpperCase()}_PORT`]).toBe(String(s.port));
      if (s.metricsPort !== undefined) {
        // Inside a container the endpoint must listen on all interfaces to be reachable through the published port.
        expect(svc!.environment).toMatchObject({
          [`${envPrefix(s.name)}_METRICS_PORT`]: String(s.metricsPort),
          [`${envPrefix(s.name)}_METRICS_HOST`]: '0.0.0.0',
        });
      }
    }
    expect(compose.services['postgres']!.ports).toEqual([`${topo.postgres.port}:5432`]);
    expect(compose.services['kafka']!.ports).toEqual([
      `${topo.kafka.layouts.single.nodes[0]!.port}:${topo.kafka.layouts.single.nodes[0]!.port}`,
    ]);
  });

  it('creates the topology topics and ACLs with the native code (kafka-init runs infra/local/kafka-init.ts)', () => {
    const init = compose.services['kafka-init']!;
    expect(init.command).toEqual(['npx', 'tsx', 'infra/local/kafka-init.ts']);
    expect(init.environment).toMatchObject({
      KAFKA_BROKERS: 'kafka-broker:9092',
      KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      KAFKA_SASL_USERNAME: 'tessera-admin',
    });
  });

  it('runs the broker with authentication only: SASL_SSL listeners, mTLS controller, SCRAM users for every principal', () => {
    const script = compose.services['kafka']!.command!.join('\n');
    expect(script).toMatch(/^listener\.security\.protocol\.map=INTERNAL:SASL_SSL,EXTERNAL:SASL_SSL,CONTROLLER:SSL$/m);
    expect(script).toMatch(/^allow\.everyone\.if\.no\.acl\.found=false$/m);
    expect(script).not.toMatch(/PLAINTEXT/);
    expect(script).toContain(
      `for user in ${['kafka-broker', 'tessera-admin', ...topo.services.filter((s) => s.produces.length + s.consumes.length + s.observes.length > 0).map((s) => s.name)].join(' ')}; do`,
    );
    // No password is written into the file: they come from the mounted .tessera/kafka/auth at start.
    expect(committedText).not.toMatch(/password=(?!"?\$\$\(cat|"@BROKER_PASSWORD@|\$\$\(cat)/);
  });

  it('creates exactly the topology databases and points each service at its own', () => {
    const script = compose.services['db-init']!.command!.join('\n');
    const created = [...script.matchAll(/CREATE DATABASE "([a-z_]+)"/g)].map((m) => m[1]);
    expect(created).toEqual(topo.postgres.databases.map((d) => d.name));
    for (const s of topo.services) {
      const url = compose.services[s.name]!.environment![`${envPrefix(s.name)}_DATABASE_URL`];
      expect(url === undefined ? undefined : url.slice(url.lastIndexOf('/') + 1)).toBe(s.database);
    }
  });

  it('gives peers the container address and Kafka users the internal listener', () => {
    const gateway = compose.services['gateway']!.environment!;
    expect(gateway['TRANSACTIONS_ADDR']).toBe('transactions:50051');
    expect(gateway['KAFKA_BROKERS']).toBe('kafka-broker:9092');
    expect(compose.services['compliance']!.environment!['KAFKA_BROKERS']).toBe('kafka-broker:9092');
    expect(compose.services['ingest']!.environment!['KAFKA_BROKERS']).toBe('kafka-broker:9092');
    expect(compose.services['ingest']!.environment).toMatchObject({
      KAFKA_SASL_USERNAME: 'ingest',
      KAFKA_SASL_PASSWORD_FILE: '/app/.tessera/kafka/auth/ingest.password',
    });
    expect(compose.services['gateway']!.environment!['GATEWAY_HTTP_HOST']).toBe('0.0.0.0');
  });

  it('mounts the host certificates and auth material read-only where TESSERA_TLS_DIR and TESSERA_AUTH_* point', () => {
    for (const name of ['gateway', 'transactions', 'compliance', 'ingest', 'insights']) {
      const svc = compose.services[name]!;
      expect(svc.volumes?.slice(0, 2)).toEqual(['./.tessera/tls:/app/.tessera/tls:ro', './.tessera/auth:/app/.tessera/auth:ro']);
      // Each Kafka user mounts its own SCRAM password, no one else's; only transactions writes something of its own:
      // the audit checkpoint key, in a named volume (issue #13).
      expect(svc.volumes?.slice(2)).toEqual([
        ...(name === 'ingest' || name === 'transactions' || name === 'compliance' || name === 'insights' || name === 'gateway'
          ? [`./.tessera/kafka/auth/${name}.password:/app/.tessera/kafka/auth/${name}.password:ro`]
          : []),
        ...(name === 'transactions' ? ['audit-key:/app/.tessera/audit-key'] : []),
      ]);
      expect(svc.environment).toMatchObject({
        TESSERA_TLS_DIR: '/app/.tessera/tls',
        TESSERA_AUTH_JWKS_FILE: '/app/.tessera/auth/jwks.json',
      });
      expect(svc.environment!['TESSERA_GRPC_PLAINTEXT']).toBeUndefined();
    }
    expect(compose.services['stream-processor']!.volumes).toEqual([
      './.tessera/tls/ca.crt:/app/.tessera/tls/ca.crt:ro',
      './.tessera/kafka/auth/stream-processor.password:/app/.tessera/kafka/auth/stream-processor.password:ro',
    ]);
  });

  it('runs the Kafka version that infra/kafka/pom.xml resolves for the native setup', () => {
    const pom = readFileSync(path.join(REPO_ROOT, 'infra/kafka/pom.xml'), 'utf8');
    expect(/<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1]).toBe(topo.kafka.version);
    expect(compose.services['kafka']!.image).toBe(`apache/kafka:${topo.kafka.version}`);
  });

  it('keeps the Go stream processor behind a profile so aggregates are not produced twice', () => {
    expect(compose.services['stream-processor-go']!.profiles).toEqual(['polyglot']);
    expect(compose.services['stream-processor']!.profiles).toBeUndefined();
  });

  it('runs it beside the TS stage with --profile compare on its own group and outputs, never on the shared ones', () => {
    const compare = compose.services['stream-processor-go-compare']!;
    expect(compare.profiles).toEqual(['compare']);
    expect(compare.ports).toBeUndefined();
    expect(compare.environment).toMatchObject({
      STREAM_PROCESSOR_GO_GROUP_ID: 'stream-processor-go.compare',
      STREAM_PROCESSOR_GO_AGGREGATES_TOPIC: 'analytics.aggregates.compare.v1',
      STREAM_PROCESSOR_GO_DLQ_TOPIC: 'analytics.events.dlq.compare.v1',
    });
    expect(compare.environment!['STREAM_PROCESSOR_GO_STATE_TOPIC']).not.toBe(
      compose.services['stream-processor-go']!.environment!['STREAM_PROCESSOR_GO_STATE_TOPIC'],
    );
  });
});
