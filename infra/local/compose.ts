/**
 * Generates docker-compose.yml from infra/topology.yaml, so Docker users get the same ports, databases,
 * topics and env as the native setup. `npx tsx infra/local/compose.ts --write` rewrites the file;
 * `--check` exits 1 when the committed file is stale (compose.spec.ts checks the same).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { envPrefix, loadTopology, REPO_ROOT, resolveTopics, serviceEnv, speaksGrpc, type Addressing, type Topology } from './topology';
import { scrapeConfig } from './victoria-metrics';

export const COMPOSE_PATH = path.join(REPO_ROOT, 'docker-compose.yml');
/** VictoriaMetrics' scrape config for the Compose network (container names), generated beside the compose file. */
export const COMPOSE_SCRAPE_PATH = path.join(REPO_ROOT, 'infra', 'victoria-metrics', 'scrape.compose.yml');
/** Grafana's datasources (VictoriaMetrics as Prometheus, Zipkin), generated so their ports follow the topology. */
export const GRAFANA_DATASOURCES_PATH = path.join(REPO_ROOT, 'infra', 'grafana', 'provisioning', 'datasources', 'tessera.yml');
const PG_IMAGE = 'postgres:15-bookworm';
const DOCKERFILE = 'infra/docker/Dockerfile';
/** Inside the compose network Kafka is reached on its internal listener; the host keeps the native port. */
const KAFKA_INTERNAL = 'kafka:9092';

const HEADER = [
  '# GENERATED from infra/topology.yaml by `npx tsx infra/local/compose.ts --write`. Do not edit by hand:',
  '# a unit test (infra/local/compose.spec.ts) fails when this file and the topology disagree.',
  '# First, on the host: `npm run infra -- certs` (dev CA + mTLS certificates in .tessera/tls) and',
  '# `npm run auth -- init` (dev token issuer JWKS + API keys in .tessera/auth); both are mounted read-only.',
  '# The images run as uid 1000 (node): the 0600 key files must be readable by it (chown -R 1000 .tessera/tls).',
  '# Usage: docker compose up --build     (add --profile polyglot for stream-processor-go)',
  '# Traces: Zipkin http://127.0.0.1:9411/zipkin/  metrics: vmui http://127.0.0.1:8428/vmui/  dashboards: Grafana http://127.0.0.1:3000/',
  '',
].join('\n');

/** Where the Node image (WORKDIR /app) sees the host's state dir: certificates and auth material only. */
const CONTAINER_STATE_DIR = '/app/.tessera';
/** Where the transactions container keeps its audit checkpoint key (a named volume, see below). */
const AUDIT_KEY_IN_CONTAINER = `${CONTAINER_STATE_DIR}/audit-key/audit-checkpoint.pem`;

/** Stable KRaft cluster id derived from the cluster name, so the generated file is reproducible. */
export function composeClusterId(t: Topology): string {
  return createHash('sha256').update(t.kafka.clusterName).digest().subarray(0, 16).toString('base64url').replace(/^-/, 'A');
}

export function composeAddressing(t: Topology): Addressing {
  return {
    bindHost: '0.0.0.0',
    postgres: { host: 'postgres', port: 5432 },
    kafkaBrokers: [KAFKA_INTERNAL],
    peerAddr: (peer) => `${peer.name}:${peer.port}`,
    stateDir: CONTAINER_STATE_DIR,
    zipkinBaseUrl: `http://zipkin:${t.observability.zipkin.port}`,
  };
}

/** Compose interpolates `$`; shell scripts in commands must write `$$`. We emit none, but guard anyway. */
function shell(lines: string[]): string {
  return `${lines.join('\n').replace(/\$/g, '$$$$')}\n`;
}

export function generateCompose(t: Topology): Record<string, unknown> {
  const [node] = t.kafka.layouts.single.nodes; // schema: min(1)
  if (!node) throw new Error('topology has no single-broker node');
  const single = t.kafka.layouts.single;
  const pg = t.postgres;
  const addressing = composeAddressing(t);
  // Fresh objects each time: a shared one would be rendered as a YAML anchor/alias.
  const healthy = () => ({ condition: 'service_healthy' });
  const completed = () => ({ condition: 'service_completed_successfully' });

  const services: Record<string, unknown> = {
    postgres: {
      image: PG_IMAGE,
      environment: { POSTGRES_USER: pg.user, POSTGRES_PASSWORD: pg.password, POSTGRES_DB: 'postgres' },
      command: ['postgres', '-c', `shared_buffers=${pg.sharedBuffersMb}MB`, '-c', `max_connections=${pg.maxConnections}`],
      ports: [`${pg.port}:5432`],
      volumes: ['pgdata:/var/lib/postgresql/data'],
      healthcheck: { test: ['CMD-SHELL', `pg_isready -U ${pg.user} -d postgres`], interval: '2s', timeout: '5s', retries: 30 },
    },
    'db-init': {
      image: PG_IMAGE,
      depends_on: { postgres: healthy() },
      environment: { PGHOST: 'postgres', PGUSER: pg.user, PGPASSWORD: pg.password, PGDATABASE: 'postgres' },
      entrypoint: ['sh', '-ec'],
      command: [
        shell(
          pg.databases.map(
            (db) => `psql -tAc "SELECT 1 FROM pg_database WHERE datname = '${db.name}'" | grep -q 1 || psql -c 'CREATE DATABASE "${db.name}"'`,
          ),
        ),
      ],
      restart: 'no',
    },
    'db-migrate': {
      build: { context: '.', dockerfile: DOCKERFILE, target: 'node-build' },
      depends_on: { 'db-init': completed() },
      environment: Object.fromEntries(
        t.services.filter((s) => s.database !== undefined).map((s) => {
          const key = `${envPrefix(s.name)}_DATABASE_URL`;
          return [key, serviceEnv(t, s.name, addressing)[key] ?? ''];
        }),
      ),
      command: ['npx', 'tsx', 'libs/db/src/cli.ts', 'migrate', '--all'],
      restart: 'no',
    },
    kafka: {
      image: `apache/kafka:${t.kafka.version}`,
      environment: {
        CLUSTER_ID: composeClusterId(t),
        KAFKA_NODE_ID: String(node.id),
        KAFKA_PROCESS_ROLES: 'broker,controller',
        KAFKA_LISTENERS: `INTERNAL://:9092,EXTERNAL://:${node.port},CONTROLLER://:${node.controllerPort}`,
        KAFKA_ADVERTISED_LISTENERS: `INTERNAL://${KAFKA_INTERNAL},EXTERNAL://${t.kafka.host}:${node.port}`,
        KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
        KAFKA_INTER_BROKER_LISTENER_NAME: 'INTERNAL',
        KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
        KAFKA_CONTROLLER_QUORUM_VOTERS: `${node.id}@kafka:${node.controllerPort}`,
        KAFKA_LOG_DIRS: '/tmp/kraft-combined-logs',
        KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
        KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR: '1',
        KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
        KAFKA_HEAP_OPTS: `-Xms${single.heapMb}m -Xmx${single.heapMb}m`,
      },
      ports: [`${node.port}:${node.port}`],
      healthcheck: {
        test: ['CMD-SHELL', '/opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server localhost:9092 > /dev/null 2>&1'],
        interval: '5s',
        timeout: '10s',
        retries: 30,
        start_period: '10s',
      },
    },
    'kafka-init': {
      image: `apache/kafka:${t.kafka.version}`,
      depends_on: { kafka: healthy() },
      entrypoint: ['bash', '-ec'],
      command: [
        shell(
          resolveTopics(t, 'single').map((topic) =>
            [
              `/opt/kafka/bin/kafka-topics.sh --bootstrap-server ${KAFKA_INTERNAL} --create --if-not-exists --topic ${topic.name}`,
              `--partitions ${topic.partitions} --replication-factor ${topic.replicationFactor}`,
              ...Object.entries(topic.config).map(([k, v]) => `--config ${k}=${v}`),
            ].join(' '),
          ),
        ),
      ],
      restart: 'no',
    },
  };

  for (const s of t.services) {
    const needsKafka = s.produces.length + s.consumes.length > 0;
    const dependsOn: Record<string, unknown> = {};
    if (s.database !== undefined) dependsOn['db-migrate'] = completed();
    if (needsKafka) dependsOn['kafka-init'] = completed();
    for (const peer of s.peers) dependsOn[peer] = { condition: 'service_started' };
    services[s.name] = {
      build: { context: '.', dockerfile: DOCKERFILE, target: s.runtime === 'go' ? 'go-service' : 'node-service', args: { SERVICE: s.name } },
      image: `tessera/${s.name}:dev`,
      ...(s.profile ? { profiles: [s.profile] } : {}),
      environment: { ...serviceEnv(t, s.name, addressing), ...(s.name === 'transactions' ? { TRANSACTIONS_AUDIT_CHECKPOINT_KEY_FILE: AUDIT_KEY_IN_CONTAINER } : {}) },
      ...(s.port !== undefined || s.metricsPort !== undefined
        ? { ports: [s.port, s.metricsPort].filter((p) => p !== undefined).map((p) => `${p}:${p}`) }
        : {}),
      ...(speaksGrpc(s)
        ? {
            volumes: [
              `./${t.stateDir}/tls:${CONTAINER_STATE_DIR}/tls:ro`,
              `./${t.stateDir}/auth:${CONTAINER_STATE_DIR}/auth:ro`,
              // The audit checkpoint key: created on first start, kept across restarts (a new key would disown the
              // checkpoints already published), never in the read-only auth folder.
              ...(s.name === 'transactions' ? [`audit-key:${path.posix.dirname(AUDIT_KEY_IN_CONTAINER)}`] : []),
            ],
          }
        : {}),
      ...(Object.keys(dependsOn).length > 0 ? { depends_on: dependsOn } : {}),
      restart: 'unless-stopped',
    };
  }
  Object.assign(services, observabilityServices(t));
  return { name: 'tessera', services, volumes: { pgdata: {}, 'vm-data': {}, 'grafana-data': {}, 'audit-key': {} } };
}

/**
 * Zipkin, VictoriaMetrics and Grafana for the Compose path: the same versions, ports and limits as the native
 * setup (infra/topology.yaml), plus Grafana with its datasources and dashboards provisioned from infra/grafana.
 */
function observabilityServices(t: Topology): Record<string, unknown> {
  const { zipkin, victoriaMetrics: vm, grafana } = t.observability;
  return {
    zipkin: {
      image: `openzipkin/zipkin:${zipkin.version}`,
      environment: { STORAGE_TYPE: 'mem', MEM_MAX_SPANS: String(zipkin.maxSpans), QUERY_PORT: String(zipkin.port), JAVA_OPTS: `-Xms${Math.min(64, zipkin.heapMb)}m -Xmx${zipkin.heapMb}m` },
      ports: [`${zipkin.port}:${zipkin.port}`],
      restart: 'unless-stopped',
    },
    'victoria-metrics': {
      image: `victoriametrics/victoria-metrics:${vm.version}`,
      command: [
        `-httpListenAddr=:${vm.port}`,
        '-storageDataPath=/storage',
        `-retentionPeriod=${vm.retention}`,
        `-memory.allowedBytes=${vm.memoryMb}MB`,
        '-promscrape.config=/etc/victoria-metrics/scrape.yml',
        '-search.latencyOffset=5s',
      ],
      ports: [`${vm.port}:${vm.port}`],
      volumes: [`./${path.relative(REPO_ROOT, COMPOSE_SCRAPE_PATH)}:/etc/victoria-metrics/scrape.yml:ro`, 'vm-data:/storage'],
      restart: 'unless-stopped',
    },
    grafana: {
      image: `grafana/grafana:${grafana.version}`,
      depends_on: { 'victoria-metrics': { condition: 'service_started' }, zipkin: { condition: 'service_started' } },
      environment: {
        GF_SERVER_HTTP_PORT: String(grafana.port),
        // Read-only browsing without a login for the demo; admin/admin (Grafana's default) to edit.
        GF_AUTH_ANONYMOUS_ENABLED: 'true',
        GF_AUTH_ANONYMOUS_ORG_ROLE: 'Viewer',
        GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH: '/var/lib/grafana/dashboards/service-red.json',
      },
      ports: [`${grafana.port}:${grafana.port}`],
      volumes: ['./infra/grafana/provisioning:/etc/grafana/provisioning:ro', './infra/grafana/dashboards:/var/lib/grafana/dashboards:ro', 'grafana-data:/var/lib/grafana'],
      restart: 'unless-stopped',
    },
  };
}

/** VictoriaMetrics' scrape config inside the Compose network: services by container name. */
export function renderComposeScrapeConfig(t: Topology): string {
  return scrapeConfig(t, (service) => service, `zipkin:${t.observability.zipkin.port}`);
}

/** Grafana datasource provisioning (uids fixed: the dashboards under infra/grafana/dashboards refer to them). */
export function renderGrafanaDatasources(t: Topology): string {
  const { zipkin, victoriaMetrics: vm } = t.observability;
  const doc = {
    apiVersion: 1,
    datasources: [
      { name: 'VictoriaMetrics', uid: 'victoriametrics', type: 'prometheus', access: 'proxy', url: `http://victoria-metrics:${vm.port}`, isDefault: true, jsonData: { timeInterval: vm.scrapeInterval } },
      { name: 'Zipkin', uid: 'zipkin', type: 'zipkin', access: 'proxy', url: `http://zipkin:${zipkin.port}` },
    ],
  };
  return `# GENERATED from infra/topology.yaml by \`npx tsx infra/local/compose.ts --write\`. Do not edit by hand.\n${stringify(doc, { lineWidth: 0 })}`;
}

/** Every file the generator owns, with its expected content. */
export function generatedFiles(t: Topology): { file: string; content: string }[] {
  return [
    { file: COMPOSE_PATH, content: renderCompose(t) },
    { file: COMPOSE_SCRAPE_PATH, content: renderComposeScrapeConfig(t) },
    { file: GRAFANA_DATASOURCES_PATH, content: renderGrafanaDatasources(t) },
  ];
}

export function renderCompose(t: Topology): string {
  // YAML 1.1 rules when quoting, so strings like "no" (restart policy) stay strings for every Compose parser.
  return HEADER + stringify(generateCompose(t), { lineWidth: 0, version: '1.1', aliasDuplicateObjects: false });
}

if (require.main === module) {
  const flag = process.argv[2];
  const files = generatedFiles(loadTopology());
  if (flag === '--write') {
    for (const { file, content } of files) {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, content);
      console.log(`==> wrote ${path.relative(REPO_ROOT, file)}`);
    }
  } else if (flag === '--check') {
    const stale = files.filter(({ file, content }) => !existsSync(file) || readFileSync(file, 'utf8') !== content);
    if (stale.length > 0) {
      console.error(`✖ stale: ${stale.map(({ file }) => path.relative(REPO_ROOT, file)).join(', ')}\n  fix: npx tsx infra/local/compose.ts --write`);
      process.exit(1);
    }
    console.log('==> docker-compose.yml, its scrape config and Grafana datasources match infra/topology.yaml');
  } else {
    process.stdout.write(files[0]!.content);
  }
}
