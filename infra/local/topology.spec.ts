import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { TopologyError } from './errors';
import {
  DEFAULT_TOPOLOGY_PATH,
  REPO_ROOT,
  kafkaBrokers,
  layoutForBrokers,
  loadTopology,
  parseTopology,
  resolveTopics,
  serviceEnv,
} from './topology';

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- free-form YAML under test

const committed = (): Raw => parse(readFileSync(DEFAULT_TOPOLOGY_PATH, 'utf8')) as Raw;

/** Parses the committed topology after `mutate`, returning the problems it reports (or [] when valid). */
function problemsAfter(mutate: (raw: Raw) => void): string[] {
  const raw = committed();
  mutate(raw);
  try {
    parseTopology(stringify(raw), 'test');
    return [];
  } catch (err) {
    if (err instanceof TopologyError) return err.problems;
    throw err;
  }
}

const service = (raw: Raw, name: string): Raw => raw['services'].find((s: Raw) => s['name'] === name);

describe('parseTopology', () => {
  it('accepts the committed infra/topology.yaml', () => {
    const t = loadTopology();
    expect(t.services.map((s) => [s.name, s.port])).toEqual(
      expect.arrayContaining([
        ['gateway', 8080],
        ['transactions', 50051],
        ['compliance', 50052],
        ['ingest', 50053],
        ['insights', 50054],
      ]),
    );
    expect(t.postgres.port).toBe(55432);
    expect(kafkaBrokers(t, 'single')).toEqual(['127.0.0.1:19092']);
    expect(kafkaBrokers(t, 'triple')).toEqual(['127.0.0.1:19092', '127.0.0.1:19094', '127.0.0.1:19096']);
  });

  it('rejects a service port that collides with postgres', () => {
    expect(problemsAfter((raw) => (service(raw, 'ingest')['port'] = 55432))).toEqual([
      expect.stringMatching(/port 55432 is used by postgres and service ingest/),
      expect.stringMatching(/port 55432 is used by postgres and service ingest/),
    ]);
  });

  it('gives every service (node and go) a metrics port of its own', () => {
    const services = loadTopology().services;
    expect(services.every((s) => s.metricsPort !== undefined)).toBe(true);
    expect(new Set(services.map((s) => s.metricsPort)).size).toBe(services.length);
  });

  it('passes the go processor its metrics port (read by its config.go like the node convention)', () => {
    expect(serviceEnv(loadTopology(), 'stream-processor-go')).toMatchObject({
      STREAM_PROCESSOR_GO_METRICS_HOST: '127.0.0.1',
      STREAM_PROCESSOR_GO_METRICS_PORT: '9467',
    });
  });

  it('rejects an observability port that collides with a service port', () => {
    expect(problemsAfter((raw) => (raw['observability']['zipkin']['port'] = 9461))).toContainEqual(
      expect.stringMatching(/port 9461 is used by service gateway metrics and zipkin/),
    );
    expect(problemsAfter((raw) => (raw['observability']['victoriaMetrics']['port'] = 8080))).toContainEqual(
      expect.stringMatching(/port 8080 is used by service gateway and victoria-metrics/),
    );
  });

  it('rejects an observability section that is missing or malformed', () => {
    expect(problemsAfter((raw) => delete raw['observability'])).toContainEqual(expect.stringMatching(/^observability: /));
    expect(problemsAfter((raw) => (raw['observability']['victoriaMetrics']['retention'] = 'forever'))).toContainEqual(
      expect.stringMatching(/observability\.victoriaMetrics\.retention/),
    );
  });

  it('rejects a metrics port that collides with another port', () => {
    expect(problemsAfter((raw) => (service(raw, 'ingest')['metricsPort'] = 9461))).toContainEqual(
      expect.stringMatching(/port 9461 is used by service gateway metrics and service ingest metrics/),
    );
    expect(problemsAfter((raw) => (service(raw, 'stream-processor')['metricsPort'] = 19093))).toContainEqual(
      expect.stringMatching(/port 19093 is used by kafka node 1 controller and service stream-processor metrics/),
    );
  });

  it('rejects two services on one port', () => {
    expect(problemsAfter((raw) => (service(raw, 'insights')['port'] = 50051))).toContainEqual(
      expect.stringMatching(/port 50051 is used by service transactions and service insights/),
    );
  });

  it('rejects a kafka controller port that collides with a broker port in the same layout', () => {
    expect(problemsAfter((raw) => (raw['kafka']['layouts']['triple']['nodes'][1]['controllerPort'] = 19092))).toContainEqual(
      expect.stringMatching(/port 19092 .* \(layout triple\)/),
    );
  });

  it('rejects duplicate topics and a DLQ for an unknown topic', () => {
    const problems = problemsAfter((raw) => {
      raw['topics'].push({ ...raw['topics'][0] });
      raw['topics'].push({
        name: 'nowhere.things.dlq.v1',
        dlqFor: 'nowhere.things.v1',
        partitions: 1,
        retentionMs: 1,
        cleanupPolicy: 'delete',
      });
    });
    expect(problems).toContainEqual('topic payments.transfer.events.v1 is declared twice');
    expect(problems).toContainEqual('topic nowhere.things.dlq.v1 is the DLQ for unknown topic nowhere.things.v1');
  });

  it('rejects topic names that break the <domain>.<entity>.<kind>.v<N> convention', () => {
    expect(problemsAfter((raw) => (raw['topics'][0]['name'] = 'PaymentsEvents'))).toContainEqual(
      expect.stringMatching(/^topics\.0\.name: topic names follow/),
    );
  });

  it('rejects a replication factor above the layout broker count and min.insync.replicas above it', () => {
    const problems = problemsAfter((raw) => {
      raw['topics'][0]['replicationFactor'] = { single: 2 };
      raw['topics'][1]['minInsyncReplicas'] = { triple: 4 };
    });
    expect(problems).toContainEqual(
      expect.stringMatching(/payments.transfer.events.v1: replication factor 2 exceeds the 1 broker\(s\) of layout single/),
    );
    expect(problems).toContainEqual(
      expect.stringMatching(/payments.transfer.events.v1.dlq: min.insync.replicas 4 exceeds replication factor 3/),
    );
  });

  it('rejects references to undeclared topics, databases and peers', () => {
    const problems = problemsAfter((raw) => {
      service(raw, 'ingest')['produces'].push('analytics.events.typo.v1');
      service(raw, 'ingest')['database'] = 'tessera_ingest';
      service(raw, 'ingest')['peers'] = ['billing'];
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'service ingest uses undeclared topic analytics.events.typo.v1',
        'service ingest uses undeclared database tessera_ingest',
        'service ingest has unknown peer billing',
      ]),
    );
  });

  it('rejects a side-by-side env that names a topic the service may not use (it would be refused, or hit shared outputs)', () => {
    const problems = problemsAfter((raw) => {
      (service(raw, 'stream-processor-go') as Record<string, Record<string, string>>)['compareEnv']![
        'STREAM_PROCESSOR_GO_AGGREGATES_TOPIC'
      ] = 'analytics.events.raw.v1';
    });
    expect(problems).toContain(
      'service stream-processor-go: compareEnv STREAM_PROCESSOR_GO_AGGREGATES_TOPIC=analytics.events.raw.v1 is not its own (ingest, stream-processor use it too)',
    );
    const undeclared = problemsAfter((raw) => {
      (service(raw, 'stream-processor-go') as Record<string, Record<string, string>>)['compareEnv']!['STREAM_PROCESSOR_GO_DLQ_TOPIC'] =
        'platform.pings.v1';
    });
    expect(undeclared).toContain(
      'service stream-processor-go: compareEnv STREAM_PROCESSOR_GO_DLQ_TOPIC=platform.pings.v1 is neither produced nor consumed by it',
    );
  });

  it('rejects a peer cycle, which would deadlock startup ordering', () => {
    expect(problemsAfter((raw) => (service(raw, 'compliance')['peers'] = ['transactions']))).toContainEqual(
      expect.stringMatching(/cycle: (transactions -> compliance -> transactions|compliance -> transactions -> compliance)/),
    );
  });

  it('allows a call back against the startup order (callbacks), but not to an unknown service', () => {
    expect(problemsAfter(() => undefined)).toEqual([]);
    expect(problemsAfter((raw) => (service(raw, 'compliance')['callbacks'] = ['billing']))).toContain(
      'service compliance has unknown peer billing',
    );
  });

  it('rejects Kafka grants that name nothing or overlap (observes, transactional ids)', () => {
    expect(problemsAfter((raw) => (service(raw, 'gateway')['observes'] = ['billing']))).toContain(
      'service gateway observes unknown service billing',
    );
    expect(problemsAfter((raw) => (service(raw, 'compliance')['transactionalIdPrefix'] = 'stream-processor-analytics.x'))).toContainEqual(
      expect.stringMatching(/services compliance and stream-processor share transactional ids/),
    );
    expect(problemsAfter((raw) => (service(raw, 'gateway')['transactionalIdPrefix'] = 'gateway-tx'))).toEqual([]);
    expect(
      problemsAfter((raw) => {
        service(raw, 'gateway')['produces'] = [];
        service(raw, 'gateway')['transactionalIdPrefix'] = 'gateway-tx';
      }),
    ).toContain('service gateway has a transactionalIdPrefix but produces nothing');
  });

  it('rejects a worker with a port and a grpc service without one', () => {
    const problems = problemsAfter((raw) => {
      service(raw, 'stream-processor')['port'] = 50060;
      delete service(raw, 'ingest')['port'];
    });
    expect(problems).toEqual(
      expect.arrayContaining(['service stream-processor: a worker has no port', 'service ingest: a grpc service needs a port']),
    );
  });

  it('rejects unknown keys (typos) instead of ignoring them', () => {
    expect(problemsAfter((raw) => (raw['postgres']['prot'] = 5432))).toContainEqual(expect.stringMatching(/^postgres: Unrecognized key/));
  });

  it('requires a heap cap on every service, so no process can take the default ~2 GB', () => {
    expect(problemsAfter((raw) => delete service(raw, 'gateway')['heapMb'])).toContainEqual(
      expect.stringMatching(/^services\.0\.heapMb: /),
    );
  });

  it('keeps the sum of heap caps, the broker heap and shared buffers within the ~2.5 GB platform budget', () => {
    const t = loadTopology();
    // The remaining ~800 MB is non-heap overhead: ~60-80 MB per Node process, Kafka metaspace and buffers.
    const heaps = t.services.reduce((sum, s) => sum + s.heapMb, 0) + t.kafka.layouts.single.heapMb + t.postgres.sharedBuffersMb;
    expect(heaps).toBeLessThanOrEqual(1700);
  });

  it('keeps that sum within 2 GB with the observability backends too (measured: ~1.75 GB PSS in total under load)', () => {
    const t = loadTopology();
    const heaps = t.services.reduce((sum, s) => sum + s.heapMb, 0) + t.kafka.layouts.single.heapMb + t.postgres.sharedBuffersMb;
    expect(heaps + t.observability.zipkin.heapMb + t.observability.victoriaMetrics.memoryMb).toBeLessThanOrEqual(2000);
  });

  it('routes the foundation ping from the gateway to the transactions consumer', () => {
    const t = loadTopology();
    const users = (topic: string, role: 'produces' | 'consumes') => t.services.filter((s) => s[role].includes(topic)).map((s) => s.name);
    expect(users('platform.pings.v1', 'produces')).toEqual(['gateway']);
    expect(users('platform.pings.v1', 'consumes')).toEqual(['transactions']);
    expect(users('platform.pings.v1.dlq', 'produces')).toEqual(['transactions']);
  });

  it('reports YAML syntax errors as a TopologyError', () => {
    expect(() => parseTopology('postgres: [unclosed', 'bad.yaml')).toThrow(TopologyError);
  });
});

describe('resolveTopics', () => {
  it('uses replication factor 1 with one broker and 3 with min.insync.replicas=2 with three', () => {
    const t = loadTopology();
    for (const topic of resolveTopics(t, 'single')) {
      expect([topic.name, topic.replicationFactor, topic.config['min.insync.replicas']]).toEqual([topic.name, 1, '1']);
    }
    for (const topic of resolveTopics(t, 'triple')) {
      expect([topic.name, topic.replicationFactor, topic.config['min.insync.replicas']]).toEqual([topic.name, 3, '2']);
    }
  });

  it('declares the compacted balances topic and every required topic with its DLQ', () => {
    const topics = resolveTopics(loadTopology(), 'single');
    expect(topics.find((x) => x.name === 'payments.account.balances.v1')?.config['cleanup.policy']).toBe('compact');
    expect(topics.map((x) => x.name)).toEqual(
      expect.arrayContaining([
        'payments.transfer.events.v1',
        'payments.transfer.events.v1.dlq',
        'compliance.alerts.v1',
        'analytics.events.raw.v1',
        'analytics.events.dlq.v1',
        'analytics.aggregates.v1',
        'platform.pings.v1',
        'platform.pings.v1.dlq',
      ]),
    );
  });
});

describe('serviceEnv', () => {
  it('derives port, database url, brokers and peer addresses from the topology', () => {
    expect(serviceEnv(loadTopology(), 'transactions')).toEqual({
      OTEL_SERVICE_NAME: 'transactions',
      TRANSACTIONS_GRPC_HOST: '127.0.0.1',
      TRANSACTIONS_GRPC_PORT: '50051',
      TRANSACTIONS_METRICS_HOST: '127.0.0.1',
      TRANSACTIONS_METRICS_PORT: '9462',
      TRANSACTIONS_DATABASE_URL: 'postgresql://tessera:tessera@127.0.0.1:55432/tessera_transactions',
      KAFKA_BROKERS: '127.0.0.1:19092',
      KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: 'transactions',
      KAFKA_SASL_PASSWORD_FILE: `${REPO_ROOT}/.tessera/kafka/auth/transactions.password`,
      KAFKA_TLS_CA_FILE: `${REPO_ROOT}/.tessera/tls/ca.crt`,
      NODE_OPTIONS: '--max-old-space-size=192 --max-semi-space-size=8',
      OTEL_TRACES_EXPORTER: 'zipkin',
      OTEL_TRACES_SAMPLER: 'tessera_tail',
      OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'http://127.0.0.1:9411/api/v2/spans',
      COMPLIANCE_ADDR: '127.0.0.1:50052',
      TESSERA_TLS_DIR: `${REPO_ROOT}/.tessera/tls`,
      TESSERA_AUTH_ISSUER: 'https://auth.tessera.local/dev',
      TESSERA_AUTH_AUDIENCE: 'tessera-api',
      TESSERA_AUTH_JWKS_FILE: `${REPO_ROOT}/.tessera/auth/jwks.json`,
      TESSERA_API_KEYS_FILE: `${REPO_ROOT}/.tessera/auth/api-keys.json`,
      TESSERA_ADMIN_TOKEN_FILE: `${REPO_ROOT}/.tessera/auth/admin-token`,
    });
  });

  it('gives every Kafka user its own principal, and services without Kafka none', () => {
    const t = loadTopology();
    for (const s of t.services) {
      const env = serviceEnv(t, s.name);
      if (s.produces.length + s.consumes.length + s.observes.length > 0)
        expect([s.name, env['KAFKA_SASL_USERNAME'], env['KAFKA_SECURITY_PROTOCOL']]).toEqual([s.name, s.name, 'SASL_SSL']);
      else expect(env['KAFKA_SASL_USERNAME']).toBeUndefined();
    }
  });

  it('gives mTLS and auth settings to every gRPC speaker and to nothing else', () => {
    const t = loadTopology();
    for (const name of ['gateway', 'transactions', 'compliance', 'ingest', 'insights']) {
      expect(serviceEnv(t, name)).toMatchObject({
        TESSERA_TLS_DIR: `${REPO_ROOT}/.tessera/tls`,
        TESSERA_API_KEYS_FILE: `${REPO_ROOT}/.tessera/auth/api-keys.json`,
      });
      expect(serviceEnv(t, name)['TESSERA_GRPC_PLAINTEXT']).toBeUndefined();
    }
    for (const name of ['stream-processor', 'stream-processor-go']) expect(serviceEnv(t, name)['TESSERA_TLS_DIR']).toBeUndefined();
  });

  it('caps the heap: --max-old-space-size for node services, GOMEMLIMIT for go', () => {
    const t = loadTopology();
    expect(serviceEnv(t, 'gateway')['NODE_OPTIONS']).toBe('--max-old-space-size=160 --max-semi-space-size=8');
    expect(serviceEnv(t, 'stream-processor-go')).toMatchObject({ GOMEMLIMIT: '128MiB' });
    expect(serviceEnv(t, 'stream-processor-go')['NODE_OPTIONS']).toBeUndefined();
  });

  it("sends every service's spans (Node and Go) to the local Zipkin and gives the gateway the console's trace URL", () => {
    const t = loadTopology();
    expect(t.services.some((x) => x.runtime === 'go')).toBe(true);
    for (const s of t.services) {
      expect(serviceEnv(t, s.name)).toMatchObject({
        OTEL_TRACES_EXPORTER: 'zipkin',
        OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'http://127.0.0.1:9411/api/v2/spans',
      });
    }
    expect(serviceEnv(t, 'gateway')['TESSERA_TRACE_URL']).toBe('http://127.0.0.1:9411/zipkin/traces/{traceId}');
    expect(serviceEnv(t, 'transactions')['TESSERA_TRACE_URL']).toBeUndefined();
  });

  it("samples the processors' batch traces (hundreds of spans each) and gives the request-driven services the tail policy", () => {
    const t = loadTopology();
    for (const name of ['stream-processor', 'stream-processor-go']) {
      expect(serviceEnv(t, name)).toMatchObject({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' });
    }
    for (const name of ['gateway', 'transactions', 'compliance', 'ingest', 'insights'])
      expect(serviceEnv(t, name)['OTEL_TRACES_SAMPLER']).toBe('tessera_tail');
  });

  it('gives call-back targets an address too', () => {
    expect(serviceEnv(loadTopology(), 'compliance')['TRANSACTIONS_ADDR']).toBe('127.0.0.1:50051');
  });

  it('throws for an unknown service', () => {
    expect(() => serviceEnv(loadTopology(), 'billing')).toThrow(/unknown service billing/);
  });
});

describe('layoutForBrokers', () => {
  it('maps 1 and 3 brokers to layouts and rejects other counts', () => {
    expect(layoutForBrokers(1)).toBe('single');
    expect(layoutForBrokers(3)).toBe('triple');
    expect(() => layoutForBrokers(2)).toThrow(/use 1 or 3/);
  });
});
