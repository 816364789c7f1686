import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { TopologyError } from './errors';
import { kafkaClientEnv } from './kafka-auth';

/** Repository root (this file lives in infra/local). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');
/** V8 semi-space cap (MB) for every Node service; see serviceEnv. 4-8 measured best, 16 already slower. */
export const SEMI_SPACE_MB = 8;
export const DEFAULT_TOPOLOGY_PATH = path.join(REPO_ROOT, 'infra', 'topology.yaml');

export const LAYOUTS = ['single', 'triple'] as const;
export type LayoutName = (typeof LAYOUTS)[number];

const name = z.string().regex(/^[a-z][a-z0-9-]*$/, 'lower-case kebab name');
const port = z.number().int().min(1024).max(65535);
const perLayout = z.object({ single: z.number().int().min(1), triple: z.number().int().min(1) }).strict();
// <domain>.<entity>.<kind>.v<N>, optionally with a DLQ suffix beside its topic.
const topicName = z
  .string()
  .regex(/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+\.v[0-9]+(\.dlq)?$/, 'topic names follow <domain>.<entity>.<kind>.v<N>[.dlq]');

const nodeSchema = z.object({ id: z.number().int().min(1), port, controllerPort: port }).strict();
const layoutSchema = z
  .object({ brokers: z.number().int().min(1), heapMb: z.number().int().min(128).max(4096), nodes: z.array(nodeSchema).min(1) })
  .strict();

const topicSchema = z
  .object({
    name: topicName,
    description: z.string().optional(),
    dlqFor: topicName.optional(),
    partitions: z.number().int().min(1).max(256),
    retentionMs: z.number().int().min(-1),
    cleanupPolicy: z.enum(['delete', 'compact', 'compact,delete']),
    replicationFactor: perLayout.partial().optional(),
    minInsyncReplicas: perLayout.partial().optional(),
    /** Extra topic-level configs, passed to Kafka verbatim. */
    config: z.record(z.string().regex(/^[a-z][a-z0-9.]*$/), z.string()).default({}),
  })
  .strict();

const serviceSchema = z
  .object({
    name,
    kind: z.enum(['grpc', 'http', 'worker']),
    port: port.optional(),
    /** Prometheus scrape port (`/metrics`), passed as <SERVICE>_METRICS_PORT; see libs/telemetry. */
    metricsPort: port.optional(),
    runtime: z.enum(['node', 'go']),
    /** Heap cap in MB: NODE_OPTIONS=--max-old-space-size for node, GOMEMLIMIT for go (see topology.yaml). */
    heapMb: z.number().int().min(32).max(4096),
    /** Compose profile: the service starts only with `docker compose --profile <name> up`. */
    profile: name.optional(),
    database: z.string().optional(),
    peers: z.array(name).default([]),
    /**
     * Services this one calls back only at run time (never while starting), e.g. compliance -> transactions
     * to release a transfer held for review. They get `<PEER>_ADDR` like peers but do not order startup,
     * so a call in both directions is not a deadlock.
     */
    callbacks: z.array(name).default([]),
    produces: z.array(topicName).default([]),
    consumes: z.array(topicName).default([]),
    /**
     * Kafka transactional ids the service may use: every id starting with this prefix (its ACL on the brokers,
     * infra/local/kafka-auth.ts). Only services that write in Kafka transactions declare one.
     */
    transactionalIdPrefix: z
      .string()
      .regex(/^[a-z][a-z0-9.-]*$/)
      .optional(),
    /**
     * Services whose consumer groups this one may describe (their lag), e.g. the gateway's GET /v1/ops/consumer-lag:
     * DESCRIBE on the groups `<service>.*` and on the topics they consume. Read-only: no offsets, no records.
     */
    observes: z.array(name).default([]),
    /** Static extra env (already fully named, e.g. GATEWAY_RATE_LIMIT_RPS). */
    env: z.record(z.string().regex(/^[A-Z][A-Z0-9_]*$/), z.string()).default({}),
    /**
     * Side by side: env (over `env`) that runs this service beside the one it duplicates, on its own consumer group and
     * output topics, for comparing the two (TESSERA_AGGREGATE_STAGE=both natively, compose profile `compare`).
     */
    compareEnv: z.record(z.string().regex(/^[A-Z][A-Z0-9_]*$/), z.string()).optional(),
  })
  .strict();

export const topologySchema = z
  .object({
    version: z.literal(1),
    stateDir: z.string().regex(/^\.[a-z0-9-]+$/, 'a hidden folder at the repo root, e.g. .tessera'),
    postgres: z
      .object({
        host: z.string(),
        port,
        user: name,
        password: z.string().min(1),
        sharedBuffersMb: z.number().int().min(16).max(2048),
        maxConnections: z.number().int().min(10).max(1000),
        databases: z.array(z.object({ name: z.string().regex(/^[a-z][a-z0-9_]*$/), service: name }).strict()).min(1),
      })
      .strict(),
    kafka: z
      .object({
        version: z.string().regex(/^4\.\d+\.\d+$/, 'Kafka 4.x (KRaft only)'),
        clusterName: name,
        host: z.string(),
        layouts: z.object({ single: layoutSchema, triple: layoutSchema }).strict(),
      })
      .strict(),
    topicDefaults: z.object({ replicationFactor: perLayout, minInsyncReplicas: perLayout }).strict(),
    observability: z
      .object({
        zipkin: z
          .object({
            version: z.string().regex(/^3\.\d+\.\d+$/, 'Zipkin 3.x (infra/zipkin/pom.xml)'),
            host: z.string(),
            port,
            heapMb: z.number().int().min(64).max(2048),
            /** MEM_MAX_SPANS: the in-memory store drops the oldest traces beyond this. */
            maxSpans: z.number().int().min(1000).max(10_000_000),
          })
          .strict(),
        victoriaMetrics: z
          .object({
            version: z.string().regex(/^v1\.\d+\.\d+$/, 'a VictoriaMetrics release tag, e.g. v1.148.9'),
            host: z.string(),
            port,
            /** -memory.allowedBytes, in MB. */
            memoryMb: z.number().int().min(32).max(4096),
            /** -retentionPeriod, e.g. 2d (VictoriaMetrics keeps at least one day). */
            retention: z.string().regex(/^\d+[dwy]$/, 'a VictoriaMetrics retention such as 2d, 1w'),
            scrapeInterval: z.string().regex(/^\d+s$/, 'seconds, e.g. 5s'),
          })
          .strict(),
        grafana: z.object({ version: z.string().regex(/^\d+\.\d+\.\d+$/), port }).strict(),
      })
      .strict(),
    topics: z.array(topicSchema).min(1),
    services: z.array(serviceSchema).min(1),
  })
  .strict();

export type Topology = z.infer<typeof topologySchema>;
export type TopicSpec = Topology['topics'][number];
export type ServiceSpec = Topology['services'][number];
export type KafkaLayout = Topology['kafka']['layouts'][LayoutName];

/** A topic with every per-layout default applied: what the cluster must look like. */
export interface ResolvedTopic {
  name: string;
  partitions: number;
  replicationFactor: number;
  /** Topic-level configs as Kafka expects them (all strings). */
  config: Record<string, string>;
}

function duplicates<T>(values: T[]): T[] {
  const seen = new Set<T>();
  const dup = new Set<T>();
  for (const v of values) (seen.has(v) ? dup : seen).add(v);
  return [...dup];
}

/** Cross-field rules zod cannot express per field; returns human-readable problems. */
function consistencyProblems(t: Topology): string[] {
  const problems: string[] = [];
  const topicNames = new Set(t.topics.map((x) => x.name));
  const serviceByName = new Map(t.services.map((s) => [s.name, s]));
  const dbNames = new Set(t.postgres.databases.map((d) => d.name));

  for (const d of duplicates(t.topics.map((x) => x.name))) problems.push(`topic ${d} is declared twice`);
  for (const d of duplicates(t.services.map((s) => s.name))) problems.push(`service ${d} is declared twice`);
  for (const d of duplicates(t.postgres.databases.map((x) => x.name))) problems.push(`database ${d} is declared twice`);

  for (const layoutName of LAYOUTS) {
    const layout = t.kafka.layouts[layoutName];
    if (layout.nodes.length !== layout.brokers) {
      problems.push(`kafka layout ${layoutName} declares ${layout.brokers} brokers but lists ${layout.nodes.length} nodes`);
    }
    for (const d of duplicates(layout.nodes.map((n) => n.id))) problems.push(`kafka layout ${layoutName}: node id ${d} used twice`);
    // Only one layout runs at a time, so ports must be unique within a layout plus everything else.
    const owners = listenPorts(t, layoutName);
    for (const p of duplicates(owners.map(([p]) => p))) {
      const who = owners.filter(([q]) => q === p).map(([, w]) => w);
      problems.push(`port ${p} is used by ${who.join(' and ')} (layout ${layoutName})`);
    }
  }

  for (const topic of t.topics) {
    if (topic.dlqFor !== undefined && !topicNames.has(topic.dlqFor)) {
      problems.push(`topic ${topic.name} is the DLQ for unknown topic ${topic.dlqFor}`);
    }
    for (const layoutName of LAYOUTS) {
      const rf = topic.replicationFactor?.[layoutName] ?? t.topicDefaults.replicationFactor[layoutName];
      const isr = topic.minInsyncReplicas?.[layoutName] ?? t.topicDefaults.minInsyncReplicas[layoutName];
      const brokers = t.kafka.layouts[layoutName].brokers;
      if (rf > brokers)
        problems.push(`topic ${topic.name}: replication factor ${rf} exceeds the ${brokers} broker(s) of layout ${layoutName}`);
      if (isr > rf)
        problems.push(`topic ${topic.name}: min.insync.replicas ${isr} exceeds replication factor ${rf} (layout ${layoutName})`);
    }
    for (const reserved of ['cleanup.policy', 'retention.ms', 'min.insync.replicas']) {
      if (reserved in topic.config) problems.push(`topic ${topic.name}: set ${reserved} through its dedicated field, not config`);
    }
  }

  for (const db of t.postgres.databases) {
    const owner = serviceByName.get(db.service);
    if (!owner) problems.push(`database ${db.name} belongs to unknown service ${db.service}`);
    else if (owner.database !== db.name) problems.push(`database ${db.name} names service ${db.service}, which does not use it`);
  }
  for (const s of t.services) {
    if (s.kind === 'worker' ? s.port !== undefined : s.port === undefined) {
      problems.push(`service ${s.name}: ${s.kind === 'worker' ? 'a worker has no port' : `a ${s.kind} service needs a port`}`);
    }
    if (s.database !== undefined && !dbNames.has(s.database)) problems.push(`service ${s.name} uses undeclared database ${s.database}`);
    for (const topic of [...s.produces, ...s.consumes]) {
      if (!topicNames.has(topic)) problems.push(`service ${s.name} uses undeclared topic ${topic}`);
    }
    for (const observed of s.observes) {
      if (!serviceByName.has(observed)) problems.push(`service ${s.name} observes unknown service ${observed}`);
    }
    if (s.transactionalIdPrefix !== undefined && s.produces.length === 0)
      problems.push(`service ${s.name} has a transactionalIdPrefix but produces nothing`);
    for (const other of t.services) {
      const [a, b] = [s.transactionalIdPrefix, other.transactionalIdPrefix];
      if (other !== s && a !== undefined && b !== undefined && a.startsWith(b))
        problems.push(`services ${s.name} and ${other.name} share transactional ids (prefix ${a} starts with ${b})`);
    }
    for (const peer of [...s.peers, ...s.callbacks]) {
      const p = serviceByName.get(peer);
      if (!p) problems.push(`service ${s.name} has unknown peer ${peer}`);
      else if (p.port === undefined) problems.push(`service ${s.name} has peer ${peer}, which serves no port`);
      else if (peer === s.name) problems.push(`service ${s.name} lists itself as a peer`);
    }
    // Side by side runs on topics of its own: granted to it (else refused) and used by no other service (else it would
    // write into the shared outputs, or read another's state).
    for (const [key, topic] of Object.entries(s.compareEnv ?? {})) {
      if (!key.endsWith('_TOPIC')) continue;
      const others = t.services
        .filter((o) => o.name !== s.name && (o.produces.includes(topic) || o.consumes.includes(topic)))
        .map((o) => o.name);
      if (!s.produces.includes(topic) && !s.consumes.includes(topic))
        problems.push(`service ${s.name}: compareEnv ${key}=${topic} is neither produced nor consumed by it`);
      else if (others.length > 0)
        problems.push(`service ${s.name}: compareEnv ${key}=${topic} is not its own (${others.join(', ')} use it too)`);
    }
  }
  const cycle = peerCycle(t.services);
  if (cycle) problems.push(`services call each other in a cycle: ${cycle.join(' -> ')} (startup order would deadlock)`);
  return problems;
}

/** A cycle in the peers graph, if any (as the list of names around it). */
function peerCycle(services: ServiceSpec[]): string[] | undefined {
  const peers = new Map(services.map((s) => [s.name, s.peers]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === 'done') return undefined;
    if (state.get(n) === 'visiting') return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 'visiting');
    stack.push(n);
    for (const p of peers.get(n) ?? []) {
      const found = visit(p);
      if (found) return found;
    }
    stack.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const s of services) {
    const found = visit(s.name);
    if (found) return found;
  }
  return undefined;
}

/** Parses and validates topology YAML text. Throws TopologyError listing every problem found. */
export function parseTopology(text: string, source = 'topology.yaml'): Topology {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new TopologyError(source, [`not valid YAML: ${(err as Error).message}`]);
  }
  const parsed = topologySchema.safeParse(raw);
  if (!parsed.success) {
    throw new TopologyError(
      source,
      parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  const problems = consistencyProblems(parsed.data);
  if (problems.length > 0) throw new TopologyError(source, problems);
  return parsed.data;
}

/** Reads infra/topology.yaml (or another file) and validates it. */
export function loadTopology(file = DEFAULT_TOPOLOGY_PATH): Topology {
  return parseTopology(readFileSync(file, 'utf8'), path.relative(process.cwd(), file) || file);
}

/** Every port something of the platform listens on in a Kafka layout, with what listens there. */
export function listenPorts(t: Topology, layoutName: LayoutName): [number, string][] {
  return [
    [t.postgres.port, 'postgres'],
    ...t.kafka.layouts[layoutName].nodes.flatMap((n): [number, string][] => [
      [n.port, `kafka node ${n.id}`],
      [n.controllerPort, `kafka node ${n.id} controller`],
    ]),
    ...t.services.flatMap((s): [number, string][] => (s.port === undefined ? [] : [[s.port, `service ${s.name}`]])),
    ...t.services.flatMap((s): [number, string][] => (s.metricsPort === undefined ? [] : [[s.metricsPort, `service ${s.name} metrics`]])),
    [t.observability.zipkin.port, 'zipkin'],
    [t.observability.victoriaMetrics.port, 'victoria-metrics'],
    [t.observability.grafana.port, 'grafana'],
  ];
}

/** Every port of every layout (for reserving them all at once, see proc.ts reserveListenPorts). */
export function allListenPorts(t: Topology): number[] {
  return [...new Set(LAYOUTS.flatMap((l) => listenPorts(t, l).map(([p]) => p)))];
}

export function layoutForBrokers(brokers: number): LayoutName {
  if (brokers === 1) return 'single';
  if (brokers === 3) return 'triple';
  throw new TopologyError('--brokers', [`unsupported broker count ${brokers}; use 1 or 3`]);
}

/** Topics with the layout's replication factor and configs resolved. */
export function resolveTopics(t: Topology, layout: LayoutName): ResolvedTopic[] {
  return t.topics.map((topic) => ({
    name: topic.name,
    partitions: topic.partitions,
    replicationFactor: topic.replicationFactor?.[layout] ?? t.topicDefaults.replicationFactor[layout],
    config: {
      'cleanup.policy': topic.cleanupPolicy,
      'retention.ms': String(topic.retentionMs),
      'min.insync.replicas': String(topic.minInsyncReplicas?.[layout] ?? t.topicDefaults.minInsyncReplicas[layout]),
      ...topic.config,
    },
  }));
}

export function kafkaBrokers(t: Topology, layout: LayoutName): string[] {
  return t.kafka.layouts[layout].nodes.map((n) => `${t.kafka.host}:${n.port}`);
}

export function databaseUrl(t: Topology, database: string, host = t.postgres.host, port = t.postgres.port): string {
  const { user, password } = t.postgres;
  return `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}/${database}`;
}

/** `stream-processor` -> `STREAM_PROCESSOR`, the prefix of that service's env vars. */
export function envPrefix(service: string): string {
  return service.toUpperCase().replace(/-/g, '_');
}

/** Where a service finds its dependencies: loopback ports natively, container names under Compose. */
export interface Addressing {
  /** Interface services listen on: loopback natively, all interfaces inside a container. */
  bindHost: string;
  postgres: { host: string; port: number };
  kafkaBrokers: string[];
  peerAddr(peer: ServiceSpec): string;
  /** Where the service sees the state dir's `tls/` (dev CA, certificates) and `auth/` (JWKS, API keys). */
  stateDir: string;
  /** Zipkin's base URL as services reach it (spans are POSTed to `<base>/api/v2/spans`). */
  zipkinBaseUrl: string;
}

/**
 * The Zipkin UI address a browser on the host opens (the console's trace links): Zipkin's published port on
 * loopback in both the native and the Compose setup.
 */
export function zipkinTraceUrl(t: Topology): string {
  return `http://127.0.0.1:${t.observability.zipkin.port}/zipkin/traces/{traceId}`;
}

/**
 * Defaults of the dev token issuer (`npm run auth -- init`, libs/auth); passed explicitly so every service
 * verifies the same issuer/audience. A real deployment sets its own.
 */
export const DEV_AUTH_ISSUER = 'https://auth.tessera.local/dev';
export const DEV_AUTH_AUDIENCE = 'tessera-api';

/** Services that serve or call gRPC: they need mTLS certificates and verify end-user credentials. */
export function speaksGrpc(s: ServiceSpec): boolean {
  return s.runtime === 'node' && (s.kind === 'grpc' || s.peers.length + s.callbacks.length > 0);
}

export function localAddressing(t: Topology, layout: LayoutName = 'single'): Addressing {
  return {
    bindHost: '127.0.0.1',
    postgres: { host: t.postgres.host, port: t.postgres.port },
    kafkaBrokers: kafkaBrokers(t, layout),
    peerAddr: (peer) => `127.0.0.1:${peer.port}`,
    stateDir: path.join(REPO_ROOT, t.stateDir),
    zipkinBaseUrl: `http://${t.observability.zipkin.host}:${t.observability.zipkin.port}`,
  };
}

/** The environment a service needs, derived from the topology (see the services comment in topology.yaml). */
export function serviceEnv(t: Topology, serviceName: string, addressing: Addressing = localAddressing(t)): Record<string, string> {
  const s = t.services.find((x) => x.name === serviceName);
  if (!s) throw new TopologyError('serviceEnv', [`unknown service ${serviceName}`]);
  const prefix = envPrefix(s.name);
  const env: Record<string, string> = { OTEL_SERVICE_NAME: s.name };
  if (s.port !== undefined) {
    env[`${prefix}_${s.kind.toUpperCase()}_HOST`] = addressing.bindHost;
    env[`${prefix}_${s.kind.toUpperCase()}_PORT`] = String(s.port);
  }
  if (s.metricsPort !== undefined) {
    env[`${prefix}_METRICS_HOST`] = addressing.bindHost;
    env[`${prefix}_METRICS_PORT`] = String(s.metricsPort);
  }
  if (s.database !== undefined) {
    env[`${prefix}_DATABASE_URL`] = databaseUrl(t, s.database, addressing.postgres.host, addressing.postgres.port);
  }
  if (s.produces.length + s.consumes.length + s.observes.length > 0) {
    env['KAFKA_BROKERS'] = addressing.kafkaBrokers.join(',');
    // Its own principal over TLS (libs/kafka kafka-security.ts; ACLs from this topology, infra/local/kafka-auth.ts).
    Object.assign(env, kafkaClientEnv(addressing.stateDir, s.name));
  }
  // Spans go to the local Zipkin (Node: libs/telemetry exporters.ts; Go: stream-processor-go internal/tracing);
  // tests override with OTEL_TRACES_EXPORTER=otlp.
  env['OTEL_TRACES_EXPORTER'] = 'zipkin';
  env['OTEL_EXPORTER_ZIPKIN_ENDPOINT'] = `${addressing.zipkinBaseUrl}/api/v2/spans`;
  if (s.runtime === 'node') {
    // The young generation is capped too: with only the old generation capped, V8 (Node 24) reserved a ~130 MB young
    // generation, the committed heap sat at the cap and V8 ran ~10 mark-compacts a second on a 50 MB heap. Compliance
    // measured alone: 28 ms CPU and 55 screens/s -> 4.9 ms and 208 screens/s, peak RSS 205 MB (issue #10).
    env['NODE_OPTIONS'] = `--max-old-space-size=${s.heapMb} --max-semi-space-size=${SEMI_SPACE_MB}`;
    // Keep every error and slow request, 1% of the rest plus the first 10 requests a second per process (a demo's
    // every request): the local Zipkin spent ~1 ms of CPU per transfer ingesting every span (libs/telemetry
    // tail-sampling.ts), and demo load pushed the transfer traces out of its 25k-span store.
    // A service's own `env` in topology.yaml overrides it (the processors sample their batch traces 1 in 10).
    env['OTEL_TRACES_SAMPLER'] = 'tessera_tail';
    // The HTTP edge serves the console, whose transfers/alerts/aggregates link to their trace in Zipkin's UI.
    if (s.kind === 'http') env['TESSERA_TRACE_URL'] = zipkinTraceUrl(t);
    // Runtime fault toggles on its admin port (libs/telemetry faults.ts) need this token; off by default anyway.
    if (s.metricsPort !== undefined) env['TESSERA_ADMIN_TOKEN_FILE'] = path.posix.join(addressing.stateDir, 'auth', 'admin-token');
  } else env['GOMEMLIMIT'] = `${s.heapMb}MiB`;
  for (const peerName of [...s.peers, ...s.callbacks]) {
    const peer = t.services.find((x) => x.name === peerName);
    if (peer) env[`${envPrefix(peer.name)}_ADDR`] = addressing.peerAddr(peer); // validated: always found
  }
  if (speaksGrpc(s)) {
    // mTLS between services (libs/grpc grpcTransportFromEnv) and the end-user credential checks (libs/auth).
    env['TESSERA_TLS_DIR'] = path.posix.join(addressing.stateDir, 'tls');
    env['TESSERA_AUTH_ISSUER'] = DEV_AUTH_ISSUER;
    env['TESSERA_AUTH_AUDIENCE'] = DEV_AUTH_AUDIENCE;
    env['TESSERA_AUTH_JWKS_FILE'] = path.posix.join(addressing.stateDir, 'auth', 'jwks.json');
    env['TESSERA_API_KEYS_FILE'] = path.posix.join(addressing.stateDir, 'auth', 'api-keys.json');
  }
  return { ...env, ...s.env };
}
