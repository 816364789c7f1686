/**
 * Generates the Kubernetes manifests under infra/k8s from infra/topology.yaml (issue #18), the way compose.ts generates
 * docker-compose.yml: a kustomize base (one file per service plus Kafka, PostgreSQL, certificates, network policies and
 * the migrations Job) and the `dev` and `prod` overlays. `npx tsx infra/local/k8s.ts --write` rewrites them; `--check`
 * exits 1 when a committed file is stale (k8s.spec.ts checks the same, and validates the overlays with kubeconform).
 *
 * What runs where in the cluster (operators installed beforehand, see infra/README.md "Kubernetes"):
 *  - Kafka: a Strimzi `Kafka` with a 3-node KRaft `KafkaNodePool`, a `KafkaTopic` per topology topic and a `KafkaUser`
 *    (SCRAM-SHA-512) per service principal with exactly the ACLs of infra/local/kafka-auth.ts desiredAcls;
 *  - PostgreSQL: a CloudNativePG `Cluster` owning the topology's databases (`Database` resources), migrations as a Job;
 *  - mTLS: cert-manager issues each gRPC identity a certificate from a cluster CA (CN = the service name, as the dev PKI);
 *  - scaling: CPU HorizontalPodAutoscalers for the request/response services, KEDA ScaledObjects on consumer lag for
 *    the consumers; a PodDisruptionBudget per service; NetworkPolicies admitting only the calls the topology declares.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { desiredAcls, KAFKA_ADMIN_PRINCIPAL, servicePrincipals, type AclEntry } from './kafka-auth';
import {
  envPrefix,
  loadTopology,
  REPO_ROOT,
  resolveTopics,
  serviceEnv,
  speaksGrpc,
  type Addressing,
  type ServiceSpec,
  type Topology,
} from './topology';

export const K8S_DIR = path.join(REPO_ROOT, 'infra', 'k8s');
export const KAFKA_CLUSTER = 'tessera';
/** Strimzi's names for the cluster's bootstrap service (TLS listener) and its cluster CA. */
export const KAFKA_BOOTSTRAP = `${KAFKA_CLUSTER}-kafka-bootstrap:9093`;
const KAFKA_CA_SECRET = `${KAFKA_CLUSTER}-cluster-ca-cert`;
/**
 * The broker version Strimzi runs. The vendored Strimzi 1.2.0 supports Kafka 4.2.x-4.3.x, not the topology's 4.4.0 (the
 * local broker): clients are the same, the protocol is compatible. Move to topology.kafka.version once Strimzi supports it.
 */
export const STRIMZI_KAFKA_VERSION = '4.3.1';
export const PG_CLUSTER = 'tessera-pg';
/** CloudNativePG's read-write service and the secret of the application owner it creates. */
const PG_HOST = `${PG_CLUSTER}-rw`;
const PG_APP_SECRET = `${PG_CLUSTER}-app`;
export const CA_ISSUER = 'tessera-ca';
/** Operator-made secrets (never generated, never committed): see infra/README.md "Kubernetes". */
export const AUTH_SECRET = 'tessera-auth';
export const AUDIT_KEY_SECRET = 'transactions-audit-key';
/** Where containers see their material; the layout of the native state dir, so serviceEnv's paths hold unchanged. */
const STATE_DIR = '/etc/tessera';
const PART_OF = { 'app.kubernetes.io/part-of': 'tessera' };
const KAFKA_CLIENT_LABEL = 'tessera.dev/kafka-client';
const PG_CLIENT_LABEL = 'tessera.dev/postgres-client';
/** The namespace KEDA's operator runs in (it reads consumer lag from the brokers). */
const KEDA_NAMESPACE = 'keda';
const KEDA_PRINCIPAL = 'keda';

/**
 * The consumers scaled on lag: their main input and consumer group (the group's default in each service's config.ts).
 * At most one instance per partition does work, so the ceiling is the topic's partition count.
 */
export const LAG_SCALING: Record<string, { topic: string; group: string; lagThreshold: number }> = {
  compliance: { topic: 'payments.transfer.events.v1', group: 'compliance.aml-monitor', lagThreshold: 500 },
  insights: { topic: 'analytics.aggregates.v1', group: 'insights.read-models', lagThreshold: 2000 },
  'stream-processor': { topic: 'analytics.events.raw.v1', group: 'stream-processor.aggregates', lagThreshold: 5000 },
};

type Manifest = Record<string, unknown>;
const meta = (name: string, labels: Record<string, string> = {}) => ({ name, labels: { ...PART_OF, ...labels } });
const appLabels = (s: ServiceSpec) => ({ 'app.kubernetes.io/name': s.name });

export function k8sAddressing(t: Topology): Addressing {
  return {
    bindHost: '0.0.0.0',
    postgres: { host: PG_HOST, port: 5432 },
    kafkaBrokers: [KAFKA_BOOTSTRAP],
    peerAddr: (peer) => `${peer.name}:${peer.port}`,
    stateDir: STATE_DIR,
    zipkinBaseUrl: `http://zipkin:${t.observability.zipkin.port}`,
  };
}

/**
 * Services whose Kafka transactional id is derived from their host name (stream-processor-go-<hostname>): a StatefulSet
 * keeps the name across restarts, so a restarted pod fences its crashed predecessor's open transaction at once instead of
 * leaving read_committed consumers waiting for it to time out.
 */
export const STABLE_HOSTNAME = new Set(['stream-processor-go']);
const usesKafka = (s: ServiceSpec) => s.produces.length + s.consumes.length + s.observes.length > 0;
/** Services that run unless a profile is chosen; a profile service (stream-processor-go) is deployed at 0 replicas. */
const scaledByDefault = (s: ServiceSpec) => s.profile === undefined;
const portName = (s: ServiceSpec) => (s.kind === 'http' ? 'http' : 'grpc');
/** Room in a gRPC server's memory limit for its health probe, a second Node process in the same cgroup. */
export const PROBE_MB = 64;
/**
 * Memory limit: the heap cap plus what a process holds beside it (Node: code, buffers, Prisma's wasm, 60-130 MB measured)
 * plus, for a gRPC server, its exec health probe.
 */
export function memoryLimitMb(s: ServiceSpec): number {
  return (s.runtime === 'node' ? s.heapMb + 160 : s.heapMb + 64) + (s.kind === 'grpc' ? PROBE_MB : 0);
}

/** Env as Kubernetes writes it: the topology's plain values, secrets by reference, the database URL assembled in the pod. */
export function containerEnv(t: Topology, s: ServiceSpec): Manifest[] {
  const env = serviceEnv(t, s.name, k8sAddressing(t));
  const out: Manifest[] = [];
  const urlKey = `${envPrefix(s.name)}_DATABASE_URL`;
  if (s.database !== undefined) {
    out.push({ name: 'PGUSER', valueFrom: { secretKeyRef: { name: PG_APP_SECRET, key: 'username' } } });
    out.push({ name: 'PGPASSWORD', valueFrom: { secretKeyRef: { name: PG_APP_SECRET, key: 'password' } } });
    // $(VAR) is expanded by the kubelet from variables defined before it; the password never lands in a manifest.
    env[urlKey] = `postgresql://$(PGUSER):$(PGPASSWORD)@${PG_HOST}:5432/${s.database}`;
  }
  // Kafka's CA is Strimzi's cluster CA, not the gRPC one (cert-manager), so it has a file of its own.
  if (usesKafka(s)) env['KAFKA_TLS_CA_FILE'] = `${STATE_DIR}/kafka/ca.crt`;
  if (s.name === 'transactions') env['TRANSACTIONS_AUDIT_CHECKPOINT_KEY_FILE'] = `${STATE_DIR}/audit-key/audit-checkpoint.pem`;
  for (const [name, value] of Object.entries(env)) out.push({ name, value });
  return out;
}

/** Volumes and mounts: the service's certificate, Kafka password and CA, the auth material; each read-only. */
function volumes(s: ServiceSpec): { volumes: Manifest[]; mounts: Manifest[] } {
  const volumes: Manifest[] = [];
  const mounts: Manifest[] = [];
  const add = (name: string, source: Manifest, mountPath: string) => {
    volumes.push({ name, ...source });
    mounts.push({ name, mountPath, readOnly: true });
  };
  if (speaksGrpc(s)) {
    // cert-manager's tls.crt/tls.key/ca.crt under the names libs/grpc reads from TESSERA_TLS_DIR.
    add(
      'tls',
      {
        secret: {
          secretName: `${s.name}-tls`,
          items: [
            { key: 'ca.crt', path: 'ca.crt' },
            { key: 'tls.crt', path: `${s.name}.crt` },
            { key: 'tls.key', path: `${s.name}.key` },
          ],
        },
      },
      `${STATE_DIR}/tls`,
    );
  }
  if (speaksGrpc(s) || (s.runtime === 'node' && s.metricsPort !== undefined))
    add('auth', { secret: { secretName: AUTH_SECRET } }, `${STATE_DIR}/auth`);
  if (usesKafka(s)) {
    add(
      'kafka',
      {
        projected: {
          sources: [
            { secret: { name: s.name, items: [{ key: 'password', path: `auth/${s.name}.password` }] } },
            { secret: { name: KAFKA_CA_SECRET, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          ],
        },
      },
      `${STATE_DIR}/kafka`,
    );
  }
  if (s.name === 'transactions') add('audit-key', { secret: { secretName: AUDIT_KEY_SECRET } }, `${STATE_DIR}/audit-key`);
  return { volumes, mounts };
}

/**
 * grpc.health.v1 Check over mTLS with the pod's own certificate: the kubelet's native gRPC probe speaks plaintext only,
 * and these servers refuse it. Only grpc-js and the health definition are loaded (measured: ~0.18 s of CPU and ~76 MB
 * RSS per run; through @tessera/grpc it was 0.34 s and 97 MB), and the memory limit leaves room for it (PROBE_MB).
 */
export function grpcHealthCommand(s: ServiceSpec): string[] {
  const script = [
    `const grpc=require('@grpc/grpc-js'),fs=require('fs'),dir=process.env.TESSERA_TLS_DIR;`,
    `const creds=grpc.credentials.createSsl(fs.readFileSync(dir+'/ca.crt'),fs.readFileSync(dir+'/${s.name}.key'),fs.readFileSync(dir+'/${s.name}.crt'));`,
    `const Health=grpc.makeGenericClientConstructor(require('grpc-health-check').service,'grpc.health.v1.Health');`,
    `new Health('localhost:${s.port}',creds).check({service:''},{deadline:Date.now()+2000},`,
    `(e,r)=>process.exit(!e&&r&&(r.status===1||r.status==='SERVING')?0:1));`,
  ].join('');
  return ['node', '--max-old-space-size=16', '-e', script];
}

function probes(s: ServiceSpec): Manifest {
  if (s.kind === 'grpc') {
    const ready = { exec: { command: grpcHealthCommand(s) }, periodSeconds: 15, timeoutSeconds: 5, failureThreshold: 2 };
    return {
      startupProbe: { ...ready, periodSeconds: 3, failureThreshold: 40 },
      readinessProbe: ready,
      livenessProbe: { tcpSocket: { port: 'grpc' }, periodSeconds: 10, failureThreshold: 6 },
    };
  }
  if (s.kind === 'http') {
    return {
      startupProbe: { tcpSocket: { port: 'http' }, periodSeconds: 2, failureThreshold: 60 },
      // /health aggregates its peers' gRPC health, PostgreSQL and Kafka (503 names what is down).
      readinessProbe: { httpGet: { path: '/health', port: 'http' }, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 3 },
      livenessProbe: { tcpSocket: { port: 'http' }, periodSeconds: 10, failureThreshold: 6 },
    };
  }
  // Workers serve only their metrics port.
  const metrics = { httpGet: { path: '/metrics', port: 'metrics' }, timeoutSeconds: 5 };
  return {
    startupProbe: { ...metrics, periodSeconds: 3, failureThreshold: 40 },
    readinessProbe: { ...metrics, periodSeconds: 10 },
    livenessProbe: { ...metrics, periodSeconds: 15, failureThreshold: 4 },
  };
}

function deployment(t: Topology, s: ServiceSpec): Manifest {
  const { volumes: vols, mounts } = volumes(s);
  const ports = [
    ...(s.port !== undefined ? [{ name: portName(s), containerPort: s.port }] : []),
    ...(s.metricsPort !== undefined ? [{ name: 'metrics', containerPort: s.metricsPort }] : []),
  ];
  const memory = `${memoryLimitMb(s)}Mi`;
  const podLabels = {
    ...PART_OF,
    ...appLabels(s),
    ...(usesKafka(s) ? { [KAFKA_CLIENT_LABEL]: 'true' } : {}),
    ...(s.database !== undefined ? { [PG_CLIENT_LABEL]: 'true' } : {}),
  };
  return {
    apiVersion: 'apps/v1',
    kind: STABLE_HOSTNAME.has(s.name) ? 'StatefulSet' : 'Deployment',
    metadata: meta(s.name, appLabels(s)),
    spec: {
      replicas: scaledByDefault(s) ? 2 : 0,
      selector: { matchLabels: appLabels(s) },
      ...(STABLE_HOSTNAME.has(s.name)
        ? { serviceName: s.name, podManagementPolicy: 'Parallel', updateStrategy: { type: 'RollingUpdate' } }
        : { strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } }),
      template: {
        metadata: { labels: podLabels },
        spec: {
          automountServiceAccountToken: false,
          securityContext: {
            runAsNonRoot: true,
            // The node image's user `node` (uid 1000); distroless' nonroot (65532).
            runAsUser: s.runtime === 'node' ? 1000 : 65532,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          terminationGracePeriodSeconds: 30,
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: 'kubernetes.io/hostname',
              whenUnsatisfiable: 'ScheduleAnyway',
              labelSelector: { matchLabels: appLabels(s) },
            },
          ],
          containers: [
            {
              name: s.name,
              image: `tessera/${s.name}`,
              ...(ports.length > 0 ? { ports } : {}),
              env: containerEnv(t, s),
              resources: { requests: { cpu: '100m', memory }, limits: { cpu: '1', memory } },
              ...probes(s),
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: false, capabilities: { drop: ['ALL'] } },
              ...(mounts.length > 0 ? { volumeMounts: mounts } : {}),
            },
          ],
          ...(vols.length > 0 ? { volumes: vols } : {}),
        },
      },
    },
  };
}

function service(s: ServiceSpec): Manifest | undefined {
  const ports = [
    ...(s.port !== undefined
      ? [{ name: portName(s), port: s.port, targetPort: portName(s), appProtocol: s.kind === 'http' ? 'http' : 'grpc' }]
      : []),
    ...(s.metricsPort !== undefined ? [{ name: 'metrics', port: s.metricsPort, targetPort: 'metrics' }] : []),
  ];
  if (ports.length === 0) return undefined;
  return { apiVersion: 'v1', kind: 'Service', metadata: meta(s.name, appLabels(s)), spec: { selector: appLabels(s), ports } };
}

function disruptionBudget(s: ServiceSpec): Manifest {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: meta(s.name, appLabels(s)),
    spec: { maxUnavailable: 1, selector: { matchLabels: appLabels(s) } },
  };
}

function autoscaler(t: Topology, s: ServiceSpec): Manifest[] {
  const target = { apiVersion: 'apps/v1', kind: 'Deployment', name: s.name };
  const lag = LAG_SCALING[s.name];
  if (lag) {
    const partitions = t.topics.find((x) => x.name === lag.topic)?.partitions ?? 1;
    return [
      {
        apiVersion: 'keda.sh/v1alpha1',
        kind: 'ScaledObject',
        metadata: meta(s.name, appLabels(s)),
        spec: {
          scaleTargetRef: { name: s.name },
          minReplicaCount: 2,
          // More consumers than partitions would sit idle.
          maxReplicaCount: partitions,
          pollingInterval: 15,
          cooldownPeriod: 300,
          triggers: [
            {
              type: 'kafka',
              metadata: {
                bootstrapServers: KAFKA_BOOTSTRAP,
                consumerGroup: lag.group,
                topic: lag.topic,
                lagThreshold: String(lag.lagThreshold),
                offsetResetPolicy: 'earliest',
                sasl: 'scram_sha512',
                tls: 'enable',
              },
              authenticationRef: { name: 'kafka-lag' },
            },
            // gRPC servers take calls too: scale on CPU as well.
            ...(s.kind === 'grpc' ? [{ type: 'cpu', metricType: 'Utilization', metadata: { value: '70' } }] : []),
          ],
        },
      },
    ];
  }
  return [
    {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: meta(s.name, appLabels(s)),
      spec: {
        scaleTargetRef: target,
        minReplicas: 2,
        maxReplicas: 10,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
        behavior: { scaleDown: { stabilizationWindowSeconds: 300 } },
      },
    },
  ];
}

/** Callers of each service: its peers' and callbacks' reverse (the gateway's own callers are outside). */
export function declaredCalls(t: Topology): { from: string; to: string }[] {
  return t.services.flatMap((s) => [...s.peers, ...s.callbacks].map((to) => ({ from: s.name, to })));
}

/** Where Tessera's pods may connect besides their declared peers (DNS, the Kafka brokers, PostgreSQL, the span collector). */
const BROKER_PODS = { podSelector: { matchLabels: { 'strimzi.io/cluster': KAFKA_CLUSTER, 'strimzi.io/kind': 'Kafka' } } };
const PG_PODS = { podSelector: { matchLabels: { 'cnpg.io/cluster': PG_CLUSTER } } };
const tcp = (port: number) => [{ protocol: 'TCP', port }];

function networkPolicies(t: Topology): Manifest[] {
  const selector = (name: string) => ({ matchLabels: { 'app.kubernetes.io/name': name } });
  const monitoring = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } };
  const policy = (name: string, labels: Record<string, string>, spec: Manifest): Manifest => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: meta(name, labels),
    spec,
  });
  const out: Manifest[] = [
    // Tessera's own pods refuse and make no connection the policies below do not allow (Strimzi manages its brokers').
    policy('default-deny', {}, { podSelector: { matchLabels: PART_OF }, policyTypes: ['Ingress', 'Egress'] }),
    policy(
      'allow-dns-and-tracing',
      {},
      {
        podSelector: { matchLabels: PART_OF },
        policyTypes: ['Egress'],
        egress: [
          {
            to: [
              {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
                podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
              },
            ],
            ports: [
              { protocol: 'UDP', port: 53 },
              { protocol: 'TCP', port: 53 },
            ],
          },
          // Spans to a Zipkin-compatible collector, wherever it runs (OTEL_EXPORTER_ZIPKIN_ENDPOINT).
          { to: [{ namespaceSelector: {}, podSelector: selector('zipkin') }], ports: tcp(t.observability.zipkin.port) },
        ],
      },
    ),
  ];
  for (const s of t.services) {
    const ingress: Manifest[] = [];
    if (s.port !== undefined) {
      const callers = declaredCalls(t).filter((c) => c.to === s.name);
      // The HTTP edge takes traffic from anywhere (an ingress controller or a load balancer in front of it).
      if (s.kind === 'http') ingress.push({ ports: tcp(s.port) });
      else if (callers.length > 0) ingress.push({ from: callers.map((c) => ({ podSelector: selector(c.from) })), ports: tcp(s.port) });
    }
    if (s.metricsPort !== undefined) ingress.push({ from: [monitoring], ports: tcp(s.metricsPort) });
    const egress: Manifest[] = declaredCalls(t)
      .filter((c) => c.from === s.name)
      .map((c) => ({ to: [{ podSelector: selector(c.to) }], ports: tcp(t.services.find((x) => x.name === c.to)?.port ?? 0) }));
    if (usesKafka(s)) egress.push({ to: [BROKER_PODS], ports: tcp(9093) });
    if (s.database !== undefined) egress.push({ to: [PG_PODS], ports: tcp(5432) });
    out.push(policy(s.name, appLabels(s), { podSelector: selector(s.name), policyTypes: ['Ingress', 'Egress'], ingress, egress }));
  }
  out.push(
    policy(
      'db-migrate',
      {},
      { podSelector: selector('db-migrate'), policyTypes: ['Egress'], egress: [{ to: [PG_PODS], ports: tcp(5432) }] },
    ),
  );
  // PostgreSQL: the services with a database, the cluster's own instances (replication) and the operator.
  out.push(
    policy(
      PG_CLUSTER,
      {},
      {
        podSelector: PG_PODS.podSelector,
        policyTypes: ['Ingress'],
        ingress: [
          { from: [{ podSelector: { matchLabels: { [PG_CLIENT_LABEL]: 'true' } } }], ports: tcp(5432) },
          { from: [PG_PODS] },
          { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'cnpg-system' } } }] },
        ],
      },
    ),
  );
  return out;
}

/** Strimzi ACL rules for a principal, grouped by resource (Strimzi takes several operations per rule). */
export function strimziAcls(acls: AclEntry[]): Manifest[] {
  const byResource = new Map<string, { resource: Manifest; operations: string[] }>();
  const TYPE = { TOPIC: 'topic', GROUP: 'group', TRANSACTIONAL_ID: 'transactionalId' } as const;
  const OP = { READ: 'Read', WRITE: 'Write', DESCRIBE: 'Describe', DELETE: 'Delete' } as const;
  for (const a of acls) {
    const key = `${a.resourceType}|${a.patternType}|${a.resourceName}`;
    const entry = byResource.get(key) ?? {
      resource: { type: TYPE[a.resourceType], name: a.resourceName, patternType: a.patternType === 'LITERAL' ? 'literal' : 'prefix' },
      operations: [],
    };
    entry.operations.push(OP[a.operation]);
    byResource.set(key, entry);
  }
  return [...byResource.values()].map((r) => ({ type: 'allow', resource: r.resource, operations: r.operations, host: '*' }));
}

function kafkaResources(t: Topology): Manifest[] {
  const layout = t.kafka.layouts.triple;
  const rf = t.topicDefaults.replicationFactor.triple;
  const isr = t.topicDefaults.minInsyncReplicas.triple;
  const clusterLabel = { 'strimzi.io/cluster': KAFKA_CLUSTER };
  const kafka: Manifest = {
    apiVersion: 'kafka.strimzi.io/v1',
    kind: 'Kafka',
    metadata: meta(KAFKA_CLUSTER),
    spec: {
      kafka: {
        version: STRIMZI_KAFKA_VERSION,
        listeners: [
          {
            name: 'tls',
            port: 9093,
            type: 'internal',
            tls: true,
            authentication: { type: 'scram-sha-512' },
            // Only Tessera's Kafka clients and KEDA's lag reader reach the brokers.
            networkPolicyPeers: [
              { podSelector: { matchLabels: { [KAFKA_CLIENT_LABEL]: 'true' } } },
              { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': KEDA_NAMESPACE } } },
            ],
          },
        ],
        authorization: { type: 'simple', superUsers: [KAFKA_ADMIN_PRINCIPAL] },
        config: {
          'auto.create.topics.enable': false,
          'default.replication.factor': rf,
          'min.insync.replicas': isr,
          'offsets.topic.replication.factor': rf,
          'transaction.state.log.replication.factor': rf,
          'transaction.state.log.min.isr': isr,
        },
      },
      entityOperator: { topicOperator: {}, userOperator: {} },
    },
  };
  const pool: Manifest = {
    apiVersion: 'kafka.strimzi.io/v1',
    kind: 'KafkaNodePool',
    metadata: meta('brokers', clusterLabel),
    spec: {
      replicas: layout.brokers,
      roles: ['controller', 'broker'],
      storage: { type: 'jbod', volumes: [{ id: 0, type: 'persistent-claim', size: '20Gi', deleteClaim: false, kraftMetadata: 'shared' }] },
      jvmOptions: { '-Xms': `${layout.heapMb}m`, '-Xmx': `${layout.heapMb}m` },
      resources: { requests: { cpu: '250m', memory: `${layout.heapMb + 512}Mi` }, limits: { memory: `${layout.heapMb + 512}Mi` } },
    },
  };
  const topics = resolveTopics(t, 'triple').map((topic) => ({
    apiVersion: 'kafka.strimzi.io/v1',
    kind: 'KafkaTopic',
    // Kubernetes names allow dots; the topic name is also given explicitly.
    metadata: meta(topic.name, clusterLabel),
    spec: { topicName: topic.name, partitions: topic.partitions, replicas: topic.replicationFactor, config: topic.config },
  }));
  const acls = desiredAcls(t);
  const users = servicePrincipals(t).map((principal) => ({
    apiVersion: 'kafka.strimzi.io/v1',
    kind: 'KafkaUser',
    metadata: meta(principal, clusterLabel),
    spec: {
      authentication: { type: 'scram-sha-512' },
      authorization: { type: 'simple', acls: strimziAcls(acls.filter((a) => a.principal === `User:${principal}`)) },
    },
  }));
  // KEDA reads the lag of the scaled consumers' groups: DESCRIBE only, as the gateway's `observes`.
  const kedaAcls: AclEntry[] = Object.values(LAG_SCALING).flatMap(({ topic, group }): AclEntry[] => [
    { principal: `User:${KEDA_PRINCIPAL}`, resourceType: 'GROUP', resourceName: group, patternType: 'LITERAL', operation: 'DESCRIBE' },
    { principal: `User:${KEDA_PRINCIPAL}`, resourceType: 'TOPIC', resourceName: topic, patternType: 'LITERAL', operation: 'DESCRIBE' },
  ]);
  const admin = {
    apiVersion: 'kafka.strimzi.io/v1',
    kind: 'KafkaUser',
    metadata: meta(KAFKA_ADMIN_PRINCIPAL, clusterLabel),
    spec: { authentication: { type: 'scram-sha-512' } },
  };
  const keda = {
    apiVersion: 'kafka.strimzi.io/v1',
    kind: 'KafkaUser',
    metadata: meta(KEDA_PRINCIPAL, clusterLabel),
    spec: { authentication: { type: 'scram-sha-512' }, authorization: { type: 'simple', acls: strimziAcls(kedaAcls) } },
  };
  return [kafka, pool, ...topics, admin, ...users, keda];
}

function kedaAuth(): Manifest[] {
  return [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('kafka-lag'), data: { username: KEDA_PRINCIPAL } },
    {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'TriggerAuthentication',
      metadata: meta('kafka-lag'),
      spec: {
        configMapTargetRef: [{ parameter: 'username', name: 'kafka-lag', key: 'username' }],
        secretTargetRef: [
          { parameter: 'password', name: KEDA_PRINCIPAL, key: 'password' },
          { parameter: 'ca', name: KAFKA_CA_SECRET, key: 'ca.crt' },
        ],
      },
    },
  ];
}

function postgresResources(t: Topology): Manifest[] {
  const [first, ...rest] = t.postgres.databases;
  if (!first) throw new Error('topology declares no database');
  const cluster: Manifest = {
    apiVersion: 'postgresql.cnpg.io/v1',
    kind: 'Cluster',
    metadata: meta(PG_CLUSTER),
    spec: {
      instances: 3,
      // The application owner (secret tessera-pg-app: username, password) owns every database, as the native role does.
      bootstrap: { initdb: { database: first.name, owner: t.postgres.user } },
      postgresql: {
        parameters: { shared_buffers: `${t.postgres.sharedBuffersMb}MB`, max_connections: String(t.postgres.maxConnections) },
      },
      storage: { size: '20Gi' },
      resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { memory: '512Mi' } },
    },
  };
  const databases = rest.map((db) => ({
    apiVersion: 'postgresql.cnpg.io/v1',
    kind: 'Database',
    metadata: meta(db.name.replace(/_/g, '-')),
    spec: { name: db.name, owner: t.postgres.user, cluster: { name: PG_CLUSTER } },
  }));
  return [cluster, ...databases];
}

/** Prisma migrations of every database, as compose's db-migrate (the node-build image holds the whole workspace). */
function migrationsJob(t: Topology): Manifest {
  const withDb = t.services.filter((s) => s.database !== undefined);
  const env: Manifest[] = [
    { name: 'PGUSER', valueFrom: { secretKeyRef: { name: PG_APP_SECRET, key: 'username' } } },
    { name: 'PGPASSWORD', valueFrom: { secretKeyRef: { name: PG_APP_SECRET, key: 'password' } } },
    ...withDb.map((s) => ({
      name: `${envPrefix(s.name)}_DATABASE_URL`,
      value: `postgresql://$(PGUSER):$(PGPASSWORD)@${PG_HOST}:5432/${s.database}`,
    })),
  ];
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta('db-migrate', { [PG_CLIENT_LABEL]: 'true' }),
    spec: {
      backoffLimit: 10,
      ttlSecondsAfterFinished: 86400,
      template: {
        metadata: { labels: { ...PART_OF, 'app.kubernetes.io/name': 'db-migrate', [PG_CLIENT_LABEL]: 'true' } },
        spec: {
          restartPolicy: 'OnFailure',
          automountServiceAccountToken: false,
          securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'migrate',
              image: 'tessera/node-build',
              command: ['npx', 'tsx', 'libs/db/src/cli.ts', 'migrate', '--all'],
              env,
              resources: { requests: { cpu: '100m', memory: '512Mi' }, limits: { memory: '512Mi' } },
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      },
    },
  };
}

/** A self-signed root, a CA issuer from it, and a certificate per gRPC identity (CN = the service, as libs/grpc authorises). */
function certificates(t: Topology): Manifest[] {
  const out: Manifest[] = [
    { apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: meta('tessera-selfsigned'), spec: { selfSigned: {} } },
    {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: meta(CA_ISSUER),
      spec: {
        isCA: true,
        commonName: CA_ISSUER,
        secretName: CA_ISSUER,
        duration: '8760h',
        privateKey: { algorithm: 'ECDSA', size: 256 },
        issuerRef: { name: 'tessera-selfsigned', kind: 'Issuer', group: 'cert-manager.io' },
      },
    },
    { apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: meta(CA_ISSUER), spec: { ca: { secretName: CA_ISSUER } } },
  ];
  for (const s of t.services.filter(speaksGrpc)) {
    out.push({
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: meta(s.name, appLabels(s)),
      spec: {
        secretName: `${s.name}-tls`,
        commonName: s.name,
        // The Service name peers dial, and localhost for the pod's own health probe.
        dnsNames: [s.name, 'localhost'],
        ipAddresses: ['127.0.0.1'],
        duration: '720h',
        renewBefore: '168h',
        privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
        usages: ['server auth', 'client auth', 'digital signature', 'key encipherment'],
        issuerRef: { name: CA_ISSUER, kind: 'Issuer', group: 'cert-manager.io' },
      },
    });
  }
  return out;
}

const HEADER = [
  '# GENERATED from infra/topology.yaml by `npx tsx infra/local/k8s.ts --write`. Do not edit by hand:',
  '# infra/local/k8s.spec.ts fails when this file and the topology disagree.',
  '',
].join('\n');

const yamlDocs = (docs: Manifest[]) => HEADER + docs.map((d) => stringify(d, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');

interface Patch {
  target: { kind: string; name?: string };
  patch: Manifest[];
}
const kustomization = (body: Manifest) =>
  HEADER + stringify({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', ...body }, { lineWidth: 0 });
const jsonPatches = (patches: Patch[]) => patches.map((p) => ({ target: p.target, patch: stringify(p.patch, { lineWidth: 0 }) }));

function overlay(t: Topology, name: 'dev' | 'prod'): string {
  const dev = name === 'dev';
  const images = [
    ...t.services.map((s) => ({ name: `tessera/${s.name}`, newTag: dev ? 'dev' : '0.1.0' })),
    { name: 'tessera/node-build', newTag: dev ? 'dev' : '0.1.0' },
  ];
  const patches: Patch[] = [];
  if (dev) {
    // One of each, smaller Kafka and PostgreSQL: fits a laptop cluster (kind, k3d) beside the operators.
    for (const s of t.services.filter(scaledByDefault))
      patches.push({ target: { kind: 'Deployment', name: s.name }, patch: [{ op: 'replace', path: '/spec/replicas', value: 1 }] });
    patches.push({
      target: { kind: 'HorizontalPodAutoscaler' },
      patch: [
        { op: 'replace', path: '/spec/minReplicas', value: 1 },
        { op: 'replace', path: '/spec/maxReplicas', value: 2 },
      ],
    });
    patches.push({
      target: { kind: 'ScaledObject' },
      patch: [
        { op: 'replace', path: '/spec/minReplicaCount', value: 1 },
        { op: 'replace', path: '/spec/maxReplicaCount', value: 2 },
      ],
    });
    patches.push({
      target: { kind: 'Cluster', name: PG_CLUSTER },
      patch: [
        { op: 'replace', path: '/spec/instances', value: 1 },
        { op: 'replace', path: '/spec/storage/size', value: '2Gi' },
      ],
    });
    patches.push({ target: { kind: 'KafkaNodePool' }, patch: [{ op: 'replace', path: '/spec/storage/volumes/0/size', value: '2Gi' }] });
  } else {
    // Production: at least two of everything left standing through a node drain, a whole core per pod (a Node process
    // uses one; request = limit gives Guaranteed QoS, and the autoscalers' 70% means 0.7 core, docs/capacity.md), bigger stores.
    patches.push({
      target: { kind: 'PodDisruptionBudget' },
      patch: [
        { op: 'remove', path: '/spec/maxUnavailable' },
        { op: 'add', path: '/spec/minAvailable', value: 2 },
      ],
    });
    for (const s of t.services.filter(scaledByDefault)) {
      patches.push({
        target: { kind: 'Deployment', name: s.name },
        patch: [
          { op: 'replace', path: '/spec/replicas', value: 3 },
          { op: 'replace', path: '/spec/template/spec/containers/0/resources/requests/cpu', value: '1' },
        ],
      });
    }
    patches.push({
      target: { kind: 'HorizontalPodAutoscaler' },
      patch: [
        { op: 'replace', path: '/spec/minReplicas', value: 3 },
        { op: 'replace', path: '/spec/maxReplicas', value: 20 },
      ],
    });
    patches.push({ target: { kind: 'ScaledObject' }, patch: [{ op: 'replace', path: '/spec/minReplicaCount', value: 3 }] });
    patches.push({
      target: { kind: 'Cluster', name: PG_CLUSTER },
      patch: [
        { op: 'replace', path: '/spec/storage/size', value: '200Gi' },
        { op: 'replace', path: '/spec/resources', value: { requests: { cpu: '2', memory: '4Gi' }, limits: { memory: '4Gi' } } },
        { op: 'replace', path: '/spec/postgresql/parameters/shared_buffers', value: '1GB' },
        // docs/capacity.md: every pod's pool (transactions 12, compliance 8, insights 5) at the autoscalers' ceilings.
        { op: 'replace', path: '/spec/postgresql/parameters/max_connections', value: '500' },
      ],
    });
    patches.push({
      target: { kind: 'KafkaNodePool' },
      patch: [
        { op: 'replace', path: '/spec/storage/volumes/0/size', value: '500Gi' },
        { op: 'replace', path: '/spec/jvmOptions', value: { '-Xms': '2048m', '-Xmx': '2048m' } },
        { op: 'replace', path: '/spec/resources', value: { requests: { cpu: '2', memory: '6Gi' }, limits: { memory: '6Gi' } } },
      ],
    });
  }
  return kustomization({ namespace: dev ? 'tessera-dev' : 'tessera', resources: ['../../base'], images, patches: jsonPatches(patches) });
}

/** Every file the generator owns under infra/k8s (schemas/ is vendored, not generated), path relative to infra/k8s. */
export function renderK8s(t: Topology): Map<string, string> {
  const files = new Map<string, string>();
  const base: string[] = [];
  const put = (file: string, docs: Manifest[]) => {
    files.set(`base/${file}`, yamlDocs(docs));
    base.push(file);
  };
  put('kafka.yaml', kafkaResources(t));
  put('postgres.yaml', postgresResources(t));
  put('certificates.yaml', certificates(t));
  put('db-migrate.yaml', [migrationsJob(t)]);
  put('network-policies.yaml', networkPolicies(t));
  put('keda-auth.yaml', kedaAuth());
  for (const s of t.services) {
    const svc = service(s);
    put(`${s.name}.yaml`, [
      deployment(t, s),
      ...(svc ? [svc] : []),
      ...(scaledByDefault(s) ? [disruptionBudget(s), ...autoscaler(t, s)] : []),
    ]);
  }
  files.set('base/kustomization.yaml', kustomization({ resources: base }));
  files.set('overlays/dev/kustomization.yaml', overlay(t, 'dev'));
  files.set('overlays/prod/kustomization.yaml', overlay(t, 'prod'));
  return files;
}

/** Files under infra/k8s/{base,overlays} that differ from the generator's output, or that it no longer makes. */
export function staleK8sFiles(t: Topology, dir = K8S_DIR): string[] {
  const want = renderK8s(t);
  const stale = [...want]
    .filter(([rel, content]) => !existsSync(path.join(dir, rel)) || readFileSync(path.join(dir, rel), 'utf8') !== content)
    .map(([rel]) => rel);
  const walk = (rel: string): string[] =>
    existsSync(path.join(dir, rel))
      ? readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) =>
          e.isDirectory() ? walk(`${rel}/${e.name}`) : [`${rel}/${e.name}`],
        )
      : [];
  const extra = [...walk('base'), ...walk('overlays')].filter((rel) => !want.has(rel));
  return [...stale, ...extra].sort();
}

export function writeK8s(t: Topology, dir = K8S_DIR): string[] {
  rmSync(path.join(dir, 'base'), { recursive: true, force: true });
  rmSync(path.join(dir, 'overlays'), { recursive: true, force: true });
  const written: string[] = [];
  for (const [rel, content] of renderK8s(t)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
    written.push(rel);
  }
  return written;
}

if (require.main === module) {
  const flag = process.argv[2];
  const topo = loadTopology();
  if (flag === '--write') {
    for (const rel of writeK8s(topo)) console.log(`==> wrote infra/k8s/${rel}`);
  } else if (flag === '--check') {
    const stale = staleK8sFiles(topo);
    if (stale.length > 0) {
      console.error(`✖ stale: ${stale.map((f) => `infra/k8s/${f}`).join(', ')}\n  fix: npx tsx infra/local/k8s.ts --write`);
      process.exit(1);
    }
    console.log('==> infra/k8s (base, overlays dev and prod) matches infra/topology.yaml');
  } else {
    console.error('usage: npx tsx infra/local/k8s.ts --write | --check');
    process.exit(2);
  }
}
