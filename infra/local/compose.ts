/**
 * Generates docker-compose.yml from infra/topology.yaml, so Docker users get the same ports, databases,
 * topics and env as the native setup. `npx tsx infra/local/compose.ts --write` rewrites the file;
 * `--check` exits 1 when the committed file is stale (compose.spec.ts checks the same).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { KAFKA_ADMIN_PRINCIPAL, KAFKA_BROKER_PRINCIPAL, KAFKA_SASL_MECHANISM, kafkaClientEnv, kafkaPrincipals } from './kafka-auth';
import { serverProperties } from './kafka-runtime';
import { envPrefix, loadTopology, REPO_ROOT, serviceEnv, speaksGrpc, type Addressing, type Topology } from './topology';
import { scrapeConfig } from './victoria-metrics';

export const COMPOSE_PATH = path.join(REPO_ROOT, 'docker-compose.yml');
/** VictoriaMetrics' scrape config for the Compose network (container names), generated beside the compose file. */
export const COMPOSE_SCRAPE_PATH = path.join(REPO_ROOT, 'infra', 'victoria-metrics', 'scrape.compose.yml');
/** Grafana's datasources (VictoriaMetrics as Prometheus, Zipkin), generated so their ports follow the topology. */
export const GRAFANA_DATASOURCES_PATH = path.join(REPO_ROOT, 'infra', 'grafana', 'provisioning', 'datasources', 'tessera.yml');
const PG_IMAGE = 'postgres:15-bookworm';
const DOCKERFILE = 'infra/docker/Dockerfile';
/**
 * Inside the compose network Kafka is reached on its internal listener, by the name its certificate carries
 * (kafka-broker, a network alias of the `kafka` service); the host keeps the native port (127.0.0.1:19092).
 */
const KAFKA_HOST = KAFKA_BROKER_PRINCIPAL;
const KAFKA_INTERNAL = `${KAFKA_HOST}:9092`;
/** Where the broker container sees the dev CA, its PEM keystore and the SCRAM passwords (all read-only mounts). */
const KAFKA_TLS_IN_CONTAINER = '/etc/tessera/tls';
const KAFKA_AUTH_IN_CONTAINER = '/etc/tessera/kafka-auth';
const SCRAM_ITERATIONS = 4096;

const HEADER = [
  '# GENERATED from infra/topology.yaml by `npx tsx infra/local/compose.ts --write`. Do not edit by hand:',
  '# a unit test (infra/local/compose.spec.ts) fails when this file and the topology disagree.',
  '# First, on the host: `npm run infra -- certs` (dev CA + mTLS certificates in .tessera/tls, Kafka SCRAM passwords in',
  '# .tessera/kafka/auth) and `npm run auth -- init` (dev token issuer JWKS + API keys in .tessera/auth); all mounted read-only.',
  '# The images run as uid 1000: the 0600 key files must be readable by it (chown -R 1000 .tessera/tls .tessera/kafka/auth).',
  '# Kafka requires TLS + SASL/SCRAM; each service connects as its own principal with the ACLs of infra/topology.yaml.',
  '# Usage: docker compose up --build     (add --profile polyglot for stream-processor-go, --profile compare to run it beside stream-processor)',
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
            (db) =>
              `psql -tAc "SELECT 1 FROM pg_database WHERE datname = '${db.name}'" | grep -q 1 || psql -c 'CREATE DATABASE "${db.name}"'`,
          ),
        ),
      ],
      restart: 'no',
    },
    'db-migrate': {
      build: { context: '.', dockerfile: DOCKERFILE, target: 'node-build' },
      depends_on: { 'db-init': completed() },
      environment: Object.fromEntries(
        t.services
          .filter((s) => s.database !== undefined)
          .map((s) => {
            const key = `${envPrefix(s.name)}_DATABASE_URL`;
            return [key, serviceEnv(t, s.name, addressing)[key] ?? ''];
          }),
      ),
      command: ['npx', 'tsx', 'libs/db/src/cli.ts', 'migrate', '--all'],
      restart: 'no',
    },
    kafka: kafkaService(t),
    'kafka-init': {
      build: { context: '.', dockerfile: DOCKERFILE, target: 'node-build' },
      depends_on: { kafka: healthy() },
      // The topics and ACLs with the same code as the native `up` (infra/local/kafka-init.ts), as tessera-admin.
      environment: { KAFKA_BROKERS: KAFKA_INTERNAL, ...kafkaClientEnv(CONTAINER_STATE_DIR, KAFKA_ADMIN_PRINCIPAL) },
      volumes: [`./${t.stateDir}/tls/ca.crt:${CONTAINER_STATE_DIR}/tls/ca.crt:ro`, passwordMount(t, KAFKA_ADMIN_PRINCIPAL)],
      command: ['npx', 'tsx', 'infra/local/kafka-init.ts'],
      restart: 'no',
    },
  };

  for (const s of t.services) {
    const needsKafka = s.produces.length + s.consumes.length + s.observes.length > 0;
    const dependsOn: Record<string, unknown> = {};
    if (s.database !== undefined) dependsOn['db-migrate'] = completed();
    if (needsKafka) dependsOn['kafka-init'] = completed();
    for (const peer of s.peers) dependsOn[peer] = { condition: 'service_started' };
    services[s.name] = {
      build: {
        context: '.',
        dockerfile: DOCKERFILE,
        target: s.runtime === 'go' ? 'go-service' : 'node-service',
        args: { SERVICE: s.name },
      },
      image: `tessera/${s.name}:dev`,
      ...(s.profile ? { profiles: [s.profile] } : {}),
      environment: {
        ...serviceEnv(t, s.name, addressing),
        ...(s.name === 'transactions' ? { TRANSACTIONS_AUDIT_CHECKPOINT_KEY_FILE: AUDIT_KEY_IN_CONTAINER } : {}),
      },
      ...(s.port !== undefined || s.metricsPort !== undefined
        ? { ports: [s.port, s.metricsPort].filter((p) => p !== undefined).map((p) => `${p}:${p}`) }
        : {}),
      ...(speaksGrpc(s) || needsKafka
        ? {
            volumes: [
              ...(speaksGrpc(s)
                ? [`./${t.stateDir}/tls:${CONTAINER_STATE_DIR}/tls:ro`, `./${t.stateDir}/auth:${CONTAINER_STATE_DIR}/auth:ro`]
                : []),
              // Kafka: the dev CA (already in the tls folder of gRPC speakers) and the service's own password only.
              ...(needsKafka && !speaksGrpc(s) ? [`./${t.stateDir}/tls/ca.crt:${CONTAINER_STATE_DIR}/tls/ca.crt:ro`] : []),
              ...(needsKafka ? [passwordMount(t, s.name)] : []),
              // The audit checkpoint key: created on first start, kept across restarts (a new key would disown the
              // checkpoints already published), never in the read-only auth folder.
              ...(s.name === 'transactions' ? [`audit-key:${path.posix.dirname(AUDIT_KEY_IN_CONTAINER)}`] : []),
            ],
          }
        : {}),
      ...(Object.keys(dependsOn).length > 0 ? { depends_on: dependsOn } : {}),
      restart: 'unless-stopped',
    };
    // Side by side (`--profile compare`): the same image beside the service it duplicates, on its own group and
    // output topics (compareEnv); no host ports (its metrics port is the other one's).
    if (s.compareEnv) {
      const { ports: _ports, profiles: _profiles, ...base } = services[s.name] as Record<string, unknown>;
      services[`${s.name}-compare`] = {
        ...base,
        profiles: ['compare'],
        environment: { ...(base['environment'] as Record<string, string>), ...s.compareEnv },
      };
    }
  }
  Object.assign(services, observabilityServices(t));
  return { name: 'tessera', services, volumes: { pgdata: {}, 'vm-data': {}, 'grafana-data': {}, 'audit-key': {} } };
}

function passwordMount(t: Topology, principal: string): string {
  return `./${t.stateDir}/kafka/auth/${principal}.password:${CONTAINER_STATE_DIR}/kafka/auth/${principal}.password:ro`;
}

/**
 * The broker: the server.properties of the native setup (kafka-runtime.ts serverProperties) with two client listeners,
 * INTERNAL for containers and EXTERNAL for the host, both SASL_SSL, and mTLS on the controller listener. Its entry
 * script puts the broker's password into the properties, formats the storage with every principal's SCRAM credentials
 * (from the mounted password files) and starts Kafka. The storage lives in the container: users come back on every
 * start, a new principal needs `docker compose up --force-recreate kafka`.
 */
function kafkaService(t: Topology): Record<string, unknown> {
  const [node] = t.kafka.layouts.single.nodes;
  if (!node) throw new Error('topology has no single-broker node');
  const props = serverProperties({
    nodeId: node.id,
    host: KAFKA_HOST,
    port: 9092,
    controllerPort: node.controllerPort,
    voters: [{ id: node.id, controllerPort: node.controllerPort }],
    dataDir: '/tmp/kraft-combined-logs',
    replicationFactor: t.topicDefaults.replicationFactor.single,
    minInsyncReplicas: t.topicDefaults.minInsyncReplicas.single,
    listeners: [
      { name: 'INTERNAL', bind: '0.0.0.0:9092', advertised: KAFKA_INTERNAL },
      { name: 'EXTERNAL', bind: `0.0.0.0:${node.port}`, advertised: `${t.kafka.host}:${node.port}` },
    ],
    security: {
      keystorePem: `${KAFKA_TLS_IN_CONTAINER}/${KAFKA_BROKER_PRINCIPAL}.pem`,
      truststorePem: `${KAFKA_TLS_IN_CONTAINER}/ca.crt`,
      brokerPrincipal: KAFKA_BROKER_PRINCIPAL,
      brokerPassword: '@BROKER_PASSWORD@',
      superUsers: [KAFKA_BROKER_PRINCIPAL, KAFKA_ADMIN_PRINCIPAL],
    },
  });
  const adminJaas = `org.apache.kafka.common.security.scram.ScramLoginModule required username="${KAFKA_ADMIN_PRINCIPAL}" password="$(cat ${KAFKA_AUTH_IN_CONTAINER}/${KAFKA_ADMIN_PRINCIPAL}.password)";`;
  const script = [
    `auth=${KAFKA_AUTH_IN_CONTAINER}`,
    `sed "s|@BROKER_PASSWORD@|$(cat $auth/${KAFKA_BROKER_PRINCIPAL}.password)|" > /tmp/server.properties <<'PROPERTIES'`,
    props.trimEnd(),
    'PROPERTIES',
    'scram=()',
    `for user in ${kafkaPrincipals(t).join(' ')}; do`,
    `  scram+=(--add-scram "${KAFKA_SASL_MECHANISM}=[name=$user,password=$(cat $auth/$user.password),iterations=${SCRAM_ITERATIONS}]")`,
    'done',
    // Its stdout lists the bootstrap records, SCRAM verifiers included: kept out of the container log.
    `/opt/kafka/bin/kafka-storage.sh format -t ${composeClusterId(t)} -c /tmp/server.properties --ignore-formatted "\${scram[@]}" > /dev/null`,
    // The healthcheck's client config (tessera-admin); an unquoted heredoc, so $(cat ...) is expanded.
    'cat > /tmp/admin.properties <<ADMIN',
    'security.protocol=SASL_SSL',
    `sasl.mechanism=${KAFKA_SASL_MECHANISM}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${KAFKA_TLS_IN_CONTAINER}/ca.crt`,
    `sasl.jaas.config=${adminJaas}`,
    'ADMIN',
    'exec /opt/kafka/bin/kafka-server-start.sh /tmp/server.properties',
  ];
  return {
    image: `apache/kafka:${t.kafka.version}`,
    networks: { default: { aliases: [KAFKA_HOST] } },
    environment: { KAFKA_HEAP_OPTS: `-Xms${t.kafka.layouts.single.heapMb}m -Xmx${t.kafka.layouts.single.heapMb}m` },
    entrypoint: ['bash', '-ec'],
    command: [shell(script)],
    volumes: [
      `./${t.stateDir}/tls/ca.crt:${KAFKA_TLS_IN_CONTAINER}/ca.crt:ro`,
      `./${t.stateDir}/tls/${KAFKA_BROKER_PRINCIPAL}.pem:${KAFKA_TLS_IN_CONTAINER}/${KAFKA_BROKER_PRINCIPAL}.pem:ro`,
      `./${t.stateDir}/kafka/auth:${KAFKA_AUTH_IN_CONTAINER}:ro`,
    ],
    ports: [`${node.port}:${node.port}`],
    healthcheck: {
      test: [
        'CMD-SHELL',
        `/opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server ${KAFKA_INTERNAL} --command-config /tmp/admin.properties > /dev/null 2>&1`,
      ],
      interval: '5s',
      timeout: '10s',
      retries: 30,
      start_period: '15s',
    },
  };
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
      environment: {
        STORAGE_TYPE: 'mem',
        MEM_MAX_SPANS: String(zipkin.maxSpans),
        QUERY_PORT: String(zipkin.port),
        JAVA_OPTS: `-Xms${Math.min(64, zipkin.heapMb)}m -Xmx${zipkin.heapMb}m`,
      },
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
      volumes: [
        './infra/grafana/provisioning:/etc/grafana/provisioning:ro',
        './infra/grafana/dashboards:/var/lib/grafana/dashboards:ro',
        'grafana-data:/var/lib/grafana',
      ],
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
      {
        name: 'VictoriaMetrics',
        uid: 'victoriametrics',
        type: 'prometheus',
        access: 'proxy',
        url: `http://victoria-metrics:${vm.port}`,
        isDefault: true,
        jsonData: { timeInterval: vm.scrapeInterval },
      },
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
      console.error(
        `✖ stale: ${stale.map(({ file }) => path.relative(REPO_ROOT, file)).join(', ')}\n  fix: npx tsx infra/local/compose.ts --write`,
      );
      process.exit(1);
    }
    console.log('==> docker-compose.yml, its scrape config and Grafana datasources match infra/topology.yaml');
  } else {
    process.stdout.write(files[0]!.content);
  }
}
