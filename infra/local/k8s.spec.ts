import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { desiredAcls, servicePrincipals } from './kafka-auth';
import {
  AUDIT_KEY_SECRET,
  AUTH_SECRET,
  declaredCalls,
  K8S_DIR,
  LAG_SCALING,
  memoryLimitMb,
  renderK8s,
  staleK8sFiles,
  strimziAcls,
} from './k8s';
import { SCHEMA_LOCATIONS } from './k8s-schemas';
import { envPrefix, loadTopology, REPO_ROOT, resolveTopics, serviceEnv, speaksGrpc } from './topology';

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are walked as plain YAML data */
type Doc = Record<string, any>;

const topo = loadTopology();
const rendered = renderK8s(topo);
const base: Doc[] = [...rendered]
  .filter(([rel]) => rel.startsWith('base/') && rel !== 'base/kustomization.yaml')
  .flatMap(([, text]) => parseAllDocuments(text).map((d) => d.toJSON() as Doc));
const of = (kind: string) => base.filter((d) => d.kind === kind);
const named = (kind: string, name: string) => of(kind).find((d) => d.metadata.name === name);
/** A service's workload: a Deployment, or a StatefulSet where its host name must survive restarts. */
const workload = (name: string) => named('Deployment', name) ?? named('StatefulSet', name);

describe('renderK8s', () => {
  it('matches the committed infra/k8s (regenerate: npx tsx infra/local/k8s.ts --write)', () => {
    expect(staleK8sFiles(topo)).toEqual([]);
  });

  it('--check finds a hand edit and a file the generator does not make', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tessera-k8s-'));
    try {
      cpSync(path.join(K8S_DIR, 'base'), path.join(dir, 'base'), { recursive: true });
      cpSync(path.join(K8S_DIR, 'overlays'), path.join(dir, 'overlays'), { recursive: true });
      expect(staleK8sFiles(topo, dir)).toEqual([]);
      const gw = path.join(dir, 'base', 'gateway.yaml');
      writeFileSync(gw, readFileSync(gw, 'utf8').replace('containerPort: 8080', 'containerPort: 8081'));
      writeFileSync(path.join(dir, 'base', 'stray.yaml'), 'kind: ConfigMap\n');
      expect(staleK8sFiles(topo, dir)).toEqual(['base/gateway.yaml', 'base/stray.yaml']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const cli = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'infra/local/k8s.ts'), '--check'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    expect(cli.stdout).toContain('matches infra/topology.yaml');
    expect(cli.status).toBe(0);
  });

  it('gives every service a Deployment with its ports, the env of serviceEnv and its memory cap', () => {
    for (const s of topo.services) {
      const d = workload(s.name);
      expect(d).toBeDefined();
      const c = d!.spec.template.spec.containers[0];
      const ports = (c.ports ?? []).map((p: Doc) => p.containerPort);
      expect(ports).toEqual([s.port, s.metricsPort].filter((p) => p !== undefined));
      // The same variable names as natively and in Compose, plus the two the database URL is assembled from.
      const names = c.env.map((e: Doc) => e.name).sort();
      const expected = Object.keys(serviceEnv(topo, s.name));
      if (s.database !== undefined) expected.push('PGUSER', 'PGPASSWORD');
      if (s.name === 'transactions') expected.push('TRANSACTIONS_AUDIT_CHECKPOINT_KEY_FILE');
      expect(names).toEqual([...new Set(expected)].sort());
      const env = Object.fromEntries(c.env.filter((e: Doc) => 'value' in e).map((e: Doc) => [e.name, e.value]));
      if (s.port !== undefined) expect(env[`${envPrefix(s.name)}_${s.kind.toUpperCase()}_PORT`]).toBe(String(s.port));
      if (s.database !== undefined)
        expect(env[`${envPrefix(s.name)}_DATABASE_URL`]).toBe(`postgresql://$(PGUSER):$(PGPASSWORD)@tessera-pg-rw:5432/${s.database}`);
      for (const peer of [...s.peers, ...s.callbacks]) {
        const p = topo.services.find((x) => x.name === peer)!;
        expect(env[`${envPrefix(peer)}_ADDR`]).toBe(`${peer}:${p.port}`);
      }
      expect(c.resources.limits.memory).toBe(`${memoryLimitMb(s)}Mi`);
      expect(memoryLimitMb(s)).toBeGreaterThan(s.heapMb);
      // A Service exposes exactly the same ports.
      const svc = named('Service', s.name);
      expect(svc?.spec.ports.map((p: Doc) => p.port) ?? []).toEqual(ports);
    }
  });

  it('mounts each identity its own certificate and Kafka password, where serviceEnv points', () => {
    for (const s of topo.services) {
      const pod = workload(s.name)!.spec.template.spec;
      const env = Object.fromEntries(pod.containers[0].env.map((e: Doc) => [e.name, e.value]));
      const vol = (n: string) => pod.volumes?.find((v: Doc) => v.name === n);
      if (speaksGrpc(s)) {
        expect(env['TESSERA_TLS_DIR']).toBe('/etc/tessera/tls');
        expect(vol('tls').secret.secretName).toBe(`${s.name}-tls`);
        expect(vol('tls').secret.items.map((i: Doc) => i.path)).toEqual(['ca.crt', `${s.name}.crt`, `${s.name}.key`]);
        expect(named('Certificate', s.name)?.spec).toMatchObject({ commonName: s.name, secretName: `${s.name}-tls` });
      } else expect(vol('tls')).toBeUndefined();
      if (servicePrincipals(topo).includes(s.name)) {
        expect(env['KAFKA_SASL_USERNAME']).toBe(s.name);
        expect(env['KAFKA_SASL_PASSWORD_FILE']).toBe(`/etc/tessera/kafka/auth/${s.name}.password`);
        expect(vol('kafka').projected.sources[0].secret).toEqual({
          name: s.name,
          items: [{ key: 'password', path: `auth/${s.name}.password` }],
        });
      }
    }
  });

  it('probes gRPC servers with grpc.health.v1 over mTLS, the gateway on /health, workers on their metrics port', () => {
    for (const s of topo.services) {
      const c = workload(s.name)!.spec.template.spec.containers[0];
      if (s.kind === 'grpc') {
        const script = c.readinessProbe.exec.command.at(-1) as string;
        expect(script).toContain(`new Health('localhost:${s.port}',creds).check({service:''}`);
        expect(script).toContain(`'grpc.health.v1.Health'`);
        // Its own certificate, as the pod's TESSERA_TLS_DIR holds it.
        expect(script).toContain(`fs.readFileSync(dir+'/${s.name}.crt')`);
        expect(c.livenessProbe.tcpSocket.port).toBe('grpc');
      } else if (s.kind === 'http') expect(c.readinessProbe.httpGet).toEqual({ path: '/health', port: 'http' });
      else expect(c.readinessProbe.httpGet).toEqual({ path: '/metrics', port: 'metrics' });
    }
  });

  it('declares every topic as a KafkaTopic with the 3-broker layout: replicas 3, min.insync.replicas 2, its configs', () => {
    const topics = of('KafkaTopic');
    expect(topics.map((t) => t.spec.topicName)).toEqual(topo.topics.map((t) => t.name));
    for (const want of resolveTopics(topo, 'triple')) {
      const got = topics.find((t) => t.spec.topicName === want.name)!;
      expect(got.spec).toEqual({ topicName: want.name, partitions: want.partitions, replicas: 3, config: want.config });
      expect(got.spec.config['min.insync.replicas']).toBe('2');
      expect(got.metadata.labels['strimzi.io/cluster']).toBe('tessera');
    }
    expect(named('KafkaNodePool', 'brokers')!.spec.replicas).toBe(3);
  });

  it('grants each service principal exactly the ACLs of desiredAcls, as KafkaUser rules', () => {
    const acls = desiredAcls(topo);
    for (const principal of servicePrincipals(topo)) {
      const user = named('KafkaUser', principal);
      expect(user?.spec.authentication).toEqual({ type: 'scram-sha-512' });
      const rules: Doc[] = user!.spec.authorization.acls;
      // Expanded back into one entry per operation, the rules are the topology's ACLs and nothing more.
      const expanded = rules.flatMap((r) =>
        r.operations.map((op: string) => `${r.resource.type}|${r.resource.patternType}|${r.resource.name}|${op}`),
      );
      const TYPE: Record<string, string> = { TOPIC: 'topic', GROUP: 'group', TRANSACTIONAL_ID: 'transactionalId' };
      const want = acls
        .filter((a) => a.principal === `User:${principal}`)
        .map(
          (a) =>
            `${TYPE[a.resourceType]}|${a.patternType === 'LITERAL' ? 'literal' : 'prefix'}|${a.resourceName}|${a.operation[0]}${a.operation.slice(1).toLowerCase()}`,
        );
      expect(expanded.sort()).toEqual(want.sort());
    }
    expect(strimziAcls([])).toEqual([]);
  });

  it('admits only the calls the topology declares: one NetworkPolicy per service, callers by pod label', () => {
    const calls = new Set<string>();
    for (const s of topo.services) {
      const policy = named('NetworkPolicy', s.name);
      expect(policy?.spec.podSelector).toEqual({ matchLabels: { 'app.kubernetes.io/name': s.name } });
      for (const rule of policy!.spec.ingress as Doc[]) {
        const ports = rule.ports.map((p: Doc) => p.port);
        if (ports.includes(s.metricsPort)) {
          expect(rule.from).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }]);
          continue;
        }
        expect(ports).toEqual([s.port]);
        if (s.kind === 'http') expect(rule.from).toBeUndefined();
        else for (const from of rule.from as Doc[]) calls.add(`${from.podSelector.matchLabels['app.kubernetes.io/name']} -> ${s.name}`);
      }
    }
    expect([...calls].sort()).toEqual(
      declaredCalls(topo)
        .map((c) => `${c.from} -> ${c.to}`)
        .sort(),
    );
    expect(named('NetworkPolicy', 'default-deny')?.spec).toEqual({
      podSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'tessera' } },
      policyTypes: ['Ingress', 'Egress'],
    });
  });

  it('lets each service connect only to its declared peers, the brokers if it uses Kafka and PostgreSQL if it has a database', () => {
    const calls = new Set<string>();
    for (const s of topo.services) {
      const egress = named('NetworkPolicy', s.name)!.spec.egress as Doc[];
      const kafka = egress.filter((r) => r.to[0].podSelector.matchLabels['strimzi.io/cluster'] === 'tessera');
      const pg = egress.filter((r) => r.to[0].podSelector.matchLabels['cnpg.io/cluster'] === 'tessera-pg');
      expect(kafka.map((r) => r.ports)).toEqual(servicePrincipals(topo).includes(s.name) ? [[{ protocol: 'TCP', port: 9093 }]] : []);
      expect(pg.map((r) => r.ports)).toEqual(s.database !== undefined ? [[{ protocol: 'TCP', port: 5432 }]] : []);
      for (const r of egress.filter((x) => !kafka.includes(x) && !pg.includes(x))) {
        const to = r.to[0].podSelector.matchLabels['app.kubernetes.io/name'] as string;
        expect(r.ports).toEqual([{ protocol: 'TCP', port: topo.services.find((x) => x.name === to)!.port }]);
        calls.add(`${s.name} -> ${to}`);
      }
    }
    expect([...calls].sort()).toEqual(
      declaredCalls(topo)
        .map((c) => `${c.from} -> ${c.to}`)
        .sort(),
    );
    // Besides: DNS and the span collector for every pod, PostgreSQL for the migrations Job.
    expect(named('NetworkPolicy', 'allow-dns-and-tracing')!.spec.egress).toHaveLength(2);
    expect(named('NetworkPolicy', 'db-migrate')!.spec.egress).toEqual([
      { to: [{ podSelector: { matchLabels: { 'cnpg.io/cluster': 'tessera-pg' } } }], ports: [{ protocol: 'TCP', port: 5432 }] },
    ]);
  });

  it('scales the edge on CPU and the consumers on their lag, never past their partitions', () => {
    expect(named('HorizontalPodAutoscaler', 'gateway')?.spec.metrics[0].resource.name).toBe('cpu');
    for (const [name, lag] of Object.entries(LAG_SCALING)) {
      const s = topo.services.find((x) => x.name === name)!;
      expect(s.consumes).toContain(lag.topic);
      expect(lag.group.startsWith(`${name}.`)).toBe(true);
      // The group KEDA watches is the one the service joins (its config's default).
      expect(readFileSync(path.join(REPO_ROOT, 'services', name, 'src', 'config.ts'), 'utf8')).toContain(`.default('${lag.group}')`);
      const so = named('ScaledObject', name)!;
      expect(so.spec.maxReplicaCount).toBe(topo.topics.find((t) => t.name === lag.topic)!.partitions);
      expect(so.spec.triggers[0].metadata).toMatchObject({ topic: lag.topic, consumerGroup: lag.group });
      expect(named('HorizontalPodAutoscaler', name)).toBeUndefined();
    }
    for (const s of topo.services.filter((x) => x.profile === undefined))
      expect(named('PodDisruptionBudget', s.name)?.spec.selector).toEqual({ matchLabels: { 'app.kubernetes.io/name': s.name } });
    // The Go stage replaces the TS one on the same topics: deployed, but at zero until chosen.
    expect(workload('stream-processor-go')!.spec.replicas).toBe(0);
    // Its transactional id follows its host name: kept across restarts by a StatefulSet.
    expect(named('StatefulSet', 'stream-processor-go')!.spec.serviceName).toBe('stream-processor-go');
    expect(of('StatefulSet').map((x) => x.metadata.name)).toEqual(['stream-processor-go']);
  });

  it('refers only to what exists: secrets an operator makes, selectors that match pods, scale targets', () => {
    const made = new Set([
      ...of('KafkaUser').map((u) => u.metadata.name as string), // Strimzi: the user's password
      ...of('Certificate').map((c) => c.spec.secretName as string), // cert-manager
      'tessera-cluster-ca-cert', // Strimzi's cluster CA
      'tessera-pg-app', // CloudNativePG's application owner
      AUTH_SECRET, // made by the operator (infra/README.md "Kubernetes")
      AUDIT_KEY_SECRET,
    ]);
    const refs: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        const o = node as Doc;
        if (typeof o.secretName === 'string') refs.push(o.secretName);
        if (o.secretKeyRef) refs.push(o.secretKeyRef.name);
        if (o.secret && typeof o.secret.name === 'string') refs.push(o.secret.name);
        Object.values(o).forEach(walk);
      }
    };
    walk([...of('Deployment'), ...of('StatefulSet'), ...of('Job'), ...of('Issuer')]);
    walk(of('TriggerAuthentication').flatMap((t) => t.spec.secretTargetRef));
    expect(refs.length).toBeGreaterThan(20);
    expect([...new Set(refs)].filter((r) => !made.has(r))).toEqual([]);
    for (const t of of('TriggerAuthentication'))
      for (const ref of t.spec.configMapTargetRef) expect(named('ConfigMap', ref.name)?.data[ref.key]).toBeDefined();

    const pods = [...of('Deployment'), ...of('StatefulSet'), ...of('Job')].map(
      (d) => d.spec.template.metadata.labels as Record<string, string>,
    );
    const matches = (selector: Record<string, string>) => pods.some((l) => Object.entries(selector).every(([k, v]) => l[k] === v));
    for (const svc of of('Service')) expect(matches(svc.spec.selector)).toBe(true);
    for (const pdb of of('PodDisruptionBudget')) expect(matches(pdb.spec.selector.matchLabels)).toBe(true);
    for (const np of of('NetworkPolicy').filter((n) => !('cnpg.io/cluster' in (n.spec.podSelector.matchLabels ?? {}))))
      expect(matches(np.spec.podSelector.matchLabels)).toBe(true);
    for (const hpa of of('HorizontalPodAutoscaler')) expect(named('Deployment', hpa.spec.scaleTargetRef.name)).toBeDefined();
    for (const so of of('ScaledObject')) expect(named('Deployment', so.spec.scaleTargetRef.name)).toBeDefined();
  });

  it('creates the topology databases in one CloudNativePG cluster and migrates them in a Job', () => {
    const cluster = named('Cluster', 'tessera-pg')!;
    const dbs = [cluster.spec.bootstrap.initdb.database, ...of('Database').map((d) => d.spec.name)];
    expect(dbs).toEqual(topo.postgres.databases.map((d) => d.name));
    const job = named('Job', 'db-migrate')!.spec.template.spec.containers[0];
    expect(job.command).toEqual(['npx', 'tsx', 'libs/db/src/cli.ts', 'migrate', '--all']);
    for (const s of topo.services.filter((x) => x.database !== undefined))
      expect(job.env.map((e: Doc) => e.name)).toContain(`${envPrefix(s.name)}_DATABASE_URL`);
  });
});

/** Tools installed by scripts/bootstrap.sh into .cache/go/bin (or found on PATH). */
function tool(name: string): string | undefined {
  const local = path.join(REPO_ROOT, '.cache', 'go', 'bin', name);
  if (existsSync(local)) return local;
  const which = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() : undefined;
}

const kustomize = tool('kustomize');
const kubeconform = tool('kubeconform');
const missing = [kustomize ? undefined : 'kustomize', kubeconform ? undefined : 'kubeconform'].filter(Boolean);
// CI must validate: a missing tool fails there; a developer without them gets a skip that says how to get them.
const ci = process.env['CI'] === 'true';
const describeValidation = missing.length === 0 || ci ? describe : describe.skip;
if (missing.length > 0 && !ci)
  console.warn(`k8s.spec: skipping kubeconform validation, ${missing.join(' and ')} missing (bash scripts/bootstrap.sh installs them)`);

describeValidation('kubeconform', () => {
  it.each(['dev', 'prod'])('validates kustomize build of overlays/%s strictly against the vendored schemas', (overlay) => {
    expect(missing).toEqual([]);
    const build = spawnSync(kustomize!, ['build', path.join(K8S_DIR, 'overlays', overlay)], { encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(build.stderr).toBe('');
    expect(build.status).toBe(0);
    const args = ['-strict', '-summary', ...SCHEMA_LOCATIONS.flatMap((l) => ['-schema-location', l]), '-'];
    const check = spawnSync(kubeconform!, args, { input: build.stdout, encoding: 'utf8' });
    // On failure the message is kubeconform's own (resource, field, reason).
    expect(`${check.stdout}${check.stderr}`).toMatch(/Invalid: 0, Errors: 0, Skipped: 0/);
    expect(check.status).toBe(0);
    expect(
      parseAllDocuments(build.stdout).every(
        (d) => (d.toJSON() as Doc).metadata.namespace === (overlay === 'dev' ? 'tessera-dev' : 'tessera'),
      ),
    ).toBe(true);
  });
});

describe('docs/capacity.md', () => {
  const doc = readFileSync(path.join(REPO_ROOT, 'docs', 'capacity.md'), 'utf8');
  const plain = doc.replace(/(\d),(\d{3})/g, '$1$2');

  it('cites bench result files that exist', () => {
    const cited = [...doc.matchAll(/\(\.\.\/(bench\/results\/[^)#]+)\)/g)].map((m) => m[1] as string);
    expect(cited.length).toBeGreaterThanOrEqual(6);
    expect(cited.filter((c) => !existsSync(path.join(REPO_ROOT, c)))).toEqual([]);
  });

  it.each([
    ['2026-12-04-0be65a8', ['261.9', '1.051', '2.003', '1.502', '2.138', '0.728', '0.534', '0.196', '546.7', '0.913', '0.872', '1.284']],
    ['2026-12-04-b08bcc7', ['4999', '100.85', '217.68', '35.31', '82.4', '30.65', '718374', '0.569']],
    ['2026-12-05-4fd5c84', ['7.76', '258 B', '439 B', '297', '137']],
    ['2026-12-05-f1c27f9', ['4993', '12.98']],
    ['2026-12-05-f04ea5c', ['22.53']],
    ['2026-12-03-d6f2d9d', ['220', '254', '219', '202']],
  ])('derives from the figures bench/results/%s states', (run, figures) => {
    const results = readFileSync(path.join(REPO_ROOT, 'bench', 'results', run, 'README.md'), 'utf8');
    expect(figures.filter((f) => !results.includes(f))).toEqual([]);
    expect(figures.filter((f) => !plain.includes(f))).toEqual([]);
  });

  it('plans each instance at 0.7 core: the prod overlay gives a pod one core and the autoscalers target 70%', () => {
    expect(named('HorizontalPodAutoscaler', 'gateway')!.spec.metrics[0].resource.target.averageUtilization).toBe(70);
    expect(rendered.get('overlays/prod/kustomization.yaml')).toMatch(/requests\/cpu\s+value: "1"/);
    // 10x single transfers through transactions: 2,620/s x 2.003 ms = 5.25 cores -> 8 instances.
    expect(Math.ceil((2620 * 2.003) / 1000 / 0.7)).toBe(8);
    expect(doc).toContain('| transactions | 2,620 x 2.003 ms = 5.25 | 8 |');
  });
});
