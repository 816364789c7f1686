import { parse } from 'yaml';
import type { ServiceNames } from './service-names';

/** Heap cap of a scaffolded Node service (MB): the smallest the platform runs a NestJS service with (ingest). */
export const SCAFFOLD_HEAP_MB = 128;
/** The comment line the generator writes above a service entry (removal takes it too). */
export const SCAFFOLD_MARKER = '  # Scaffolded by @tessera/plugin:service (tools/plugin).';
const FIRST_GRPC_PORT = 50051;
const FIRST_METRICS_PORT = 9461;

export interface TopologyEntry {
  grpcPort?: number;
  metricsPort: number;
  /** The topic names added, in order. */
  topics: string[];
}

interface ServiceLike {
  name: string;
  kind: string;
  port?: number;
  metricsPort?: number;
  heapMb: number;
  database?: string;
  produces?: string[];
  consumes?: string[];
}
interface TopologyLike {
  services: ServiceLike[];
  topics: Array<{ name: string; dlqFor?: string }>;
  kafka: { layouts: { single: { heapMb: number } } };
  postgres: { sharedBuffersMb: number };
}

/** Every port the topology uses (services, metrics, Postgres, Kafka nodes, observability): any key ending in "port". */
function usedPorts(t: unknown): Set<number> {
  const ports = new Set<number>();
  const walk = (value: unknown, key?: string): void => {
    if (Array.isArray(value)) value.forEach((v) => walk(v));
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, k);
    else if (typeof value === 'number' && key !== undefined && /port$/i.test(key)) ports.add(value);
  };
  walk(t);
  return ports;
}

/** One above the highest of `taken` (or `first`), skipping every port in use. */
function nextPort(used: Set<number>, taken: number[], first: number): number {
  let port = taken.length > 0 ? Math.max(...taken) + 1 : first;
  while (used.has(port)) port += 1;
  return port;
}

/** Sum of the services' heap caps, the broker heap and shared buffers: what infra/local/topology.spec.ts budgets (1700 MB). */
export function heapSum(text: string): number {
  const t = parse(text) as TopologyLike;
  return t.services.reduce((sum, s) => sum + s.heapMb, 0) + t.kafka.layouts.single.heapMb + t.postgres.sharedBuffersMb;
}

/** Index of the line `key:` at column 0. */
function topLevel(lines: string[], key: string): number {
  const at = lines.findIndex((l) => l === `${key}:` || l.startsWith(`${key}: `));
  if (at < 0) throw new Error(`infra/topology.yaml has no top-level ${key}`);
  return at;
}

/** Where a top-level section starting at `start` ends: before the comments and blank lines that precede the next key. */
function sectionEnd(lines: string[], start: number): number {
  let next = lines.findIndex((l, i) => i > start && /^[a-zA-Z]/.test(l));
  if (next < 0) next = lines.length;
  while (next - 1 > start && (lines[next - 1]?.trim() === '' || lines[next - 1]?.startsWith('#'))) next -= 1;
  return next;
}

/**
 * Adds the service to infra/topology.yaml's text, as text (every comment and line of the file stays as written): its
 * database, its topics (requests, their DLQ beside them, events) and the service entry with free ports and the
 * produce/consume lists its Kafka principal's ACLs follow from (infra/local/kafka-auth.ts).
 */
export function addToTopology(
  text: string,
  n: ServiceNames,
  f: { grpc: boolean; kafka: boolean; db: boolean; outbox: boolean },
): { text: string; entry: TopologyEntry } {
  const t = parse(text) as TopologyLike;
  if (t.services.some((s) => s.name === n.name)) throw new Error(`infra/topology.yaml already has a service ${n.name}`);
  const used = usedPorts(t);
  const grpcPort = f.grpc
    ? nextPort(
        used,
        t.services.filter((s) => s.kind === 'grpc' && s.port !== undefined).map((s) => s.port as number),
        FIRST_GRPC_PORT,
      )
    : undefined;
  const metricsPort = nextPort(
    used,
    t.services.filter((s) => s.metricsPort !== undefined).map((s) => s.metricsPort as number),
    FIRST_METRICS_PORT,
  );
  const lines = text.replace(/\n+$/, '').split('\n');

  const service = [
    SCAFFOLD_MARKER,
    `  - name: ${n.name}`,
    `    kind: ${f.grpc ? 'grpc' : 'worker'}`,
    ...(grpcPort === undefined ? [] : [`    port: ${grpcPort}`]),
    `    metricsPort: ${metricsPort}`,
    '    runtime: node',
    `    heapMb: ${SCAFFOLD_HEAP_MB}`,
    ...(f.db ? [`    database: ${n.database}`] : []),
    '    peers: []',
    `    produces: [${f.kafka ? `${n.eventsTopic}, ${n.dlqTopic}` : ''}]`,
    `    consumes: [${f.kafka ? n.requestsTopic : ''}]${f.kafka ? ` # group ${n.consumerGroup}` : ''}`,
  ];
  // services: is the last section; its entries end the file.
  lines.splice(sectionEnd(lines, topLevel(lines, 'services')), 0, ...service);

  const topics = f.kafka
    ? [
        `  - name: ${n.requestsTopic}`,
        `    description: Requests to create an item, consumed by ${n.name} (group ${n.consumerGroup}), keyed by request id.`,
        '    partitions: 3',
        '    retentionMs: 604800000 # 7 days',
        '    cleanupPolicy: delete',
        `  - name: ${n.dlqTopic}`,
        `    description: Item requests ${n.name} could not handle, with the reason in headers.`,
        `    dlqFor: ${n.requestsTopic}`,
        '    partitions: 1',
        '    retentionMs: 1209600000 # 14 days',
        '    cleanupPolicy: delete',
        `  - name: ${n.eventsTopic}`,
        `    description: ${n.className}ItemCreated events of ${n.name} (${f.outbox ? 'its transactional outbox' : 'its producer'}), keyed by item id.`,
        '    partitions: 3',
        '    retentionMs: 604800000 # 7 days',
        '    cleanupPolicy: delete',
      ]
    : [];
  if (topics.length > 0) lines.splice(sectionEnd(lines, topLevel(lines, 'topics')), 0, ...topics);

  if (f.db) {
    // postgres.databases: the last `    - name:` / `      service:` pair of the postgres section.
    const start = topLevel(lines, 'postgres');
    const end = sectionEnd(lines, start);
    let last = -1;
    for (let i = start; i < end; i += 1) if (/^ {6}service: /.test(lines[i] ?? '')) last = i;
    if (last < 0) throw new Error('infra/topology.yaml: postgres.databases not found');
    lines.splice(last + 1, 0, `    - name: ${n.database}`, `      service: ${n.name}`);
  }
  return {
    text: `${lines.join('\n')}\n`,
    entry: {
      ...(grpcPort === undefined ? {} : { grpcPort }),
      metricsPort,
      topics: topics.filter((l) => l.startsWith('  - name: ')).map((l) => l.slice(10)),
    },
  };
}

/** Removes the `  - name: <name>` entry (its lines up to the next entry or section) in the section `key`. */
function removeEntry(lines: string[], key: string, name: string, indent: string): boolean {
  const start = topLevel(lines, key);
  const end = sectionEnd(lines, start);
  const at = lines.findIndex((l, i) => i > start && i < end && l === `${indent}- name: ${name}`);
  if (at < 0) return false;
  let stop = at + 1;
  while (stop < end && (lines[stop] ?? '').startsWith(`${indent}  `)) stop += 1;
  const from = lines[at - 1] === SCAFFOLD_MARKER ? at - 1 : at;
  lines.splice(from, stop - from);
  return true;
}

/** Removes the service, its database and the topics no other service uses (with their DLQs) from the topology's text. */
export function removeFromTopology(text: string, name: string): { text: string; removedTopics: string[] } {
  const t = parse(text) as TopologyLike;
  const own = t.services.find((s) => s.name === name);
  if (!own) throw new Error(`infra/topology.yaml has no service ${name}`);
  const others = t.services.filter((s) => s !== own);
  const stillUsed = new Set(others.flatMap((s) => [...(s.produces ?? []), ...(s.consumes ?? [])]));
  const gone = new Set([...(own.produces ?? []), ...(own.consumes ?? [])].filter((topic) => !stillUsed.has(topic)));
  for (const topic of t.topics)
    if (topic.dlqFor !== undefined && gone.has(topic.dlqFor) && !stillUsed.has(topic.name)) gone.add(topic.name);

  const lines = text.replace(/\n+$/, '').split('\n');
  removeEntry(lines, 'services', name, '  ');
  const removedTopics = t.topics.map((topic) => topic.name).filter((topic) => gone.has(topic) && removeEntry(lines, 'topics', topic, '  '));
  if (own.database !== undefined) removeEntry(lines, 'postgres', own.database, '    ');
  return { text: `${lines.join('\n')}\n`, removedTopics };
}
