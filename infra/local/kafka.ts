import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { tlsDir } from './certs';
import { InfraError } from './errors';
import {
  ensureAcls,
  ensurePassword,
  KAFKA_ADMIN_PRINCIPAL,
  KAFKA_BROKER_PRINCIPAL,
  KAFKA_SASL_MECHANISM,
  kafkaAuthDir,
  kafkaJsAuth,
  kafkaPrincipals,
  writeJavaClientProperties,
} from './kafka-auth';
import {
  assertJava,
  ensureKafkaJars,
  jarsCurrent,
  jvmArgs,
  kafkaClasspath,
  KAFKA_LOG4J2,
  newClusterId,
  serverProperties,
} from './kafka-runtime';
import {
  assertPortFree,
  ensureDir,
  ownedPid,
  removeFile,
  run,
  startDetached,
  stopPid,
  tailFile,
  tcpOpen,
  treePssKb,
  waitFor,
} from './proc';
import type { ComponentStatus } from './status';
import { adminClient, ensureTopics } from './topics';
import type { Admin } from 'kafkajs';
import { kafkaBrokers, LAYOUTS, REPO_ROOT, resolveTopics, type LayoutName, type Topology } from './topology';

const SCRAM_ITERATIONS = 4096;

interface NodePaths {
  id: number;
  port: number;
  controllerPort: number;
  dir: string;
  props: string;
  data: string;
  logs: string;
  pidFile: string;
  stdout: string;
}

/**
 * Apache Kafka in KRaft mode from the Maven Central jars: one or three combined broker+controller nodes,
 * each a detached `java ... kafka.Kafka server.properties` with its pid, data and logs under .tessera/kafka.
 */
export class LocalKafka {
  readonly dir: string;
  private readonly clusterIdFile: string;
  private readonly layoutFile: string;
  private readonly stateDir: string;
  /** The SCRAM users the cluster's metadata holds (written at format, extended by addScramUsers). */
  private readonly scramUsersFile: string;

  constructor(private readonly topo: Topology) {
    this.stateDir = path.join(REPO_ROOT, topo.stateDir);
    this.dir = path.join(this.stateDir, 'kafka');
    this.clusterIdFile = path.join(this.dir, 'cluster.id');
    this.layoutFile = path.join(this.dir, 'layout');
    this.scramUsersFile = path.join(kafkaAuthDir(this.stateDir), 'scram-users');
  }

  /** An admin client acting as tessera-admin. */
  admin(layout: LayoutName, opts: { retries?: number } = {}): Admin {
    return adminClient(kafkaBrokers(this.topo, layout), kafkaJsAuth(this.stateDir), opts);
  }

  private scramUsers(): string[] {
    return existsSync(this.scramUsersFile) ? readFileSync(this.scramUsersFile, 'utf8').split('\n').filter(Boolean) : [];
  }

  nodes(layout: LayoutName): NodePaths[] {
    return this.topo.kafka.layouts[layout].nodes.map((n) => {
      const dir = path.join(this.dir, `node-${n.id}`);
      return {
        ...n,
        dir,
        props: path.join(dir, 'server.properties'),
        data: path.join(dir, 'data'),
        logs: path.join(dir, 'logs'),
        pidFile: path.join(dir, 'kafka.pid'),
        stdout: path.join(dir, 'logs', 'stdout.log'),
      };
    });
  }

  /** The layout the storage was formatted for, if any. */
  formattedLayout(): LayoutName | undefined {
    if (!existsSync(this.layoutFile)) return undefined;
    const v = readFileSync(this.layoutFile, 'utf8').trim();
    return (LAYOUTS as readonly string[]).includes(v) ? (v as LayoutName) : undefined;
  }

  nodePid(node: NodePaths): number | undefined {
    return ownedPid(node.pidFile, node.props);
  }

  async up(layout: LayoutName, timeoutMs: number, log: (line: string) => void): Promise<void> {
    const formatted = this.formattedLayout();
    if (formatted !== undefined && formatted !== layout) {
      throw new InfraError(
        `Kafka storage in ${path.relative(REPO_ROOT, this.dir)} was formatted for the ${formatted} layout, not ${layout}`,
        `npm run infra -- reset --only kafka   (wipes Tessera's Kafka data), then up --brokers ${layout === 'single' ? 1 : 3}`,
      );
    }
    assertJava();
    const spec = this.topo.kafka.layouts[layout];
    const nodes = this.nodes(layout);
    // Never swap jars under a running broker: it loads classes lazily and would fail mid-flight.
    if (nodes.some((n) => this.nodePid(n) !== undefined)) {
      if (!jarsCurrent()) log('warning: infra/kafka/pom.xml changed; `down` then `up` to run the new Kafka jars');
    } else {
      ensureKafkaJars(log);
    }
    const rf = this.topo.topicDefaults.replicationFactor[layout];
    const isr = this.topo.topicDefaults.minInsyncReplicas[layout];
    ensureDir(this.dir);
    if (!existsSync(this.clusterIdFile)) writeFileSync(this.clusterIdFile, `${newClusterId(randomBytes)}\n`);
    const clusterId = readFileSync(this.clusterIdFile, 'utf8').trim();
    const anyFormatted = nodes.some((n) => existsSync(path.join(n.data, 'meta.properties')));
    if (anyFormatted && this.scramUsers().length === 0) {
      throw new InfraError(
        `Kafka storage in ${path.relative(REPO_ROOT, this.dir)} predates broker authentication (no SCRAM users recorded)`,
        "npm run infra -- reset --only kafka   (wipes Tessera's Kafka data; the next `up` formats it with users and ACLs)",
      );
    }
    writeFileSync(this.layoutFile, `${layout}\n`);
    const principals = kafkaPrincipals(this.topo);
    const passwords = new Map(principals.map((p) => [p, ensurePassword(this.stateDir, p)]));
    writeJavaClientProperties(this.stateDir, KAFKA_ADMIN_PRINCIPAL);
    const security = {
      keystorePem: path.join(tlsDir(this.topo), `${KAFKA_BROKER_PRINCIPAL}.pem`), // written by ensureCerts
      truststorePem: path.join(tlsDir(this.topo), 'ca.crt'),
      brokerPrincipal: KAFKA_BROKER_PRINCIPAL,
      brokerPassword: passwords.get(KAFKA_BROKER_PRINCIPAL) as string,
      superUsers: [KAFKA_BROKER_PRINCIPAL, KAFKA_ADMIN_PRINCIPAL],
    };

    for (const node of nodes) {
      const running = this.nodePid(node);
      if (running !== undefined) {
        log(`kafka-${node.id} already running (pid ${running})`);
        continue;
      }
      assertPortFree(node.port, `kafka-${node.id}`);
      assertPortFree(node.controllerPort, `kafka-${node.id} controller`);
      ensureDir(node.logs);
      writeFileSync(
        node.props,
        serverProperties({
          nodeId: node.id,
          host: this.topo.kafka.host,
          port: node.port,
          controllerPort: node.controllerPort,
          voters: nodes.map((n) => ({ id: n.id, controllerPort: n.controllerPort })),
          dataDir: node.data,
          replicationFactor: rf,
          minInsyncReplicas: isr,
          security,
        }),
        { mode: 0o600 },
      );
      chmodSync(node.props, 0o600);
      if (!existsSync(path.join(node.data, 'meta.properties'))) {
        log(`formatting kafka-${node.id} storage (cluster ${clusterId}) with SCRAM users ${principals.join(', ')}`);
        // The SCRAM users go into the bootstrap metadata: the broker authenticates its first client (itself) with them.
        // iterations=4096 (ConfigCommand's default): StorageTool's 8192 is refused by librdkafka 2.0 (kcat, Debian 12).
        const scram = principals.flatMap((p) => [
          '--add-scram',
          `${KAFKA_SASL_MECHANISM}=[name=${p},password=${passwords.get(p)},iterations=${SCRAM_ITERATIONS}]`,
        ]);
        run(
          'java',
          [
            '-Xmx256m',
            `-Dlog4j2.configurationFile=${KAFKA_LOG4J2}`,
            `-Dkafka.logs.dir=${node.logs}`,
            '-cp',
            kafkaClasspath(),
            'kafka.tools.StorageTool',
            'format',
            '-t',
            clusterId,
            '-c',
            node.props,
            '--ignore-formatted',
            ...scram,
          ],
          {
            what: `kafka-storage format (node ${node.id})`,
            cwd: REPO_ROOT,
          },
        );
        if (!anyFormatted) writeFileSync(this.scramUsersFile, `${principals.join('\n')}\n`);
      }
      const pid = startDetached({
        command: 'java',
        args: [...jvmArgs(spec.heapMb, node.logs), '-cp', kafkaClasspath(), 'kafka.Kafka', node.props],
        cwd: REPO_ROOT,
        logFile: node.stdout,
        pidFile: node.pidFile,
      });
      log(`started kafka-${node.id} (pid ${pid}, heap ${spec.heapMb} MB) on ${this.topo.kafka.host}:${node.port}`);
    }

    for (const node of nodes) {
      const up = await waitFor(async () => (await tcpOpen(this.topo.kafka.host, node.port)) || this.nodePid(node) === undefined, timeoutMs);
      if (!up || this.nodePid(node) === undefined) {
        throw new InfraError(
          this.nodePid(node) === undefined
            ? `kafka-${node.id} exited during startup`
            : `kafka-${node.id} did not open port ${node.port} within ${timeoutMs / 1000}s`,
          `see ${path.relative(REPO_ROOT, node.logs)}/server.log and stdout.log (a slow machine may need --timeout <s>)`,
          `${tailFile(path.join(node.logs, 'server.log'), 15)}\n${tailFile(node.stdout, 10)}`,
        );
      }
    }
    await this.waitForCluster(layout, timeoutMs);
    log(`kafka cluster ready: ${nodes.length} broker(s), ${kafkaBrokers(this.topo, layout).join(',')}`);

    this.addScramUsers(
      layout,
      principals.filter((p) => !this.scramUsers().includes(p)),
      passwords,
      log,
    );

    const admin = this.admin(layout);
    await admin.connect();
    try {
      for (const outcome of await ensureTopics(admin, resolveTopics(this.topo, layout))) {
        log(`topic ${outcome.topic}: ${outcome.actions.join(', ')}`);
        for (const w of outcome.warnings) log(`  warning: ${outcome.topic} ${w}`);
      }
      const acls = await ensureAcls(admin, this.topo);
      log(`ACLs from infra/topology.yaml: ${acls.created} created, ${acls.deleted} removed, ${acls.kept} unchanged`);
      await this.waitForGroupCoordinator(admin, timeoutMs);
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * SCRAM users the topology gained after the storage was formatted (a new service): added through Kafka's own
   * ConfigCommand as tessera-admin (kafkajs has no AlterUserScramCredentials), one JVM per user, then recorded.
   */
  private addScramUsers(layout: LayoutName, missing: string[], passwords: Map<string, string>, log: (line: string) => void): void {
    if (missing.length === 0) return;
    const config = writeJavaClientProperties(this.stateDir, KAFKA_ADMIN_PRINCIPAL);
    for (const user of missing) {
      log(`adding SCRAM user ${user} (new in infra/topology.yaml)`);
      run(
        'java',
        [
          '-Xmx128m',
          `-Dlog4j2.configurationFile=${KAFKA_LOG4J2}`,
          `-Dkafka.logs.dir=${path.join(this.dir, 'tools-logs')}`,
          '-cp',
          kafkaClasspath(),
          'org.apache.kafka.tools.ConfigCommand',
          '--bootstrap-server',
          kafkaBrokers(this.topo, layout).join(','),
          '--command-config',
          config,
          '--alter',
          '--add-config',
          `${KAFKA_SASL_MECHANISM}=[iterations=${SCRAM_ITERATIONS},password=${passwords.get(user)}]`,
          '--entity-type',
          'users',
          '--entity-name',
          user,
        ],
        {
          what: `add SCRAM user ${user}`,
          cwd: REPO_ROOT,
        },
      );
      writeFileSync(this.scramUsersFile, `${[...this.scramUsers(), user].join('\n')}\n`);
    }
  }

  /**
   * A fresh broker answers metadata before it can coordinate consumer groups: __consumer_offsets is created
   * and loaded on first use. Waiting here means "up" really is ready for consumers, offset fetches and
   * transactions, instead of every client retrying "not the correct coordinator" for its first seconds.
   */
  private async waitForGroupCoordinator(admin: Admin, timeoutMs: number): Promise<void> {
    let lastError = '';
    const ok = await waitFor(
      async () => {
        try {
          await admin.describeGroups(['tessera.readiness-probe']);
          return true;
        } catch (err) {
          lastError = err instanceof Error ? err.message : String(err);
          return false;
        }
      },
      timeoutMs,
      500,
    );
    if (!ok)
      throw new InfraError(
        `kafka group coordinator not ready within ${timeoutMs / 1000}s (${lastError})`,
        'see .tessera/kafka/node-*/logs/server.log',
      );
  }

  /** Waits until every broker of the layout is registered and a controller is elected. */
  private async waitForCluster(layout: LayoutName, timeoutMs: number): Promise<void> {
    const expected = this.topo.kafka.layouts[layout].brokers;
    let seen = 0;
    const ok = await waitFor(
      async () => {
        const admin = this.admin(layout, { retries: 0 });
        try {
          await admin.connect();
          const cluster = await admin.describeCluster();
          seen = cluster.brokers.length;
          return seen === expected && cluster.controller !== null && cluster.controller >= 0;
        } catch {
          return false;
        } finally {
          await admin.disconnect().catch(() => undefined);
        }
      },
      timeoutMs,
      1000,
    );
    if (!ok) {
      const node = this.nodes(layout)[0];
      throw new InfraError(
        `kafka cluster not ready within ${timeoutMs / 1000}s (${seen}/${expected} brokers registered)`,
        `see ${path.relative(REPO_ROOT, this.dir)}/node-*/logs/server.log`,
        node ? tailFile(path.join(node.logs, 'server.log'), 20) : undefined,
      );
    }
  }

  async down(log: (line: string) => void): Promise<void> {
    // Both layouts: a node left over from the other layout must not survive `down`.
    const all = [...new Map(LAYOUTS.flatMap((l) => this.nodes(l)).map((n) => [n.id, n])).values()];
    const running = all.map((n) => ({ n, pid: this.nodePid(n) })).filter((x): x is { n: NodePaths; pid: number } => x.pid !== undefined);
    // In parallel: stopping nodes one by one would make the last ones wait for a lost quorum.
    await Promise.all(
      running.map(async ({ n, pid }) => {
        log(`stopping kafka-${n.id} (pid ${pid})`);
        const how = await stopPid(pid, 30000);
        if (how === 'killed') log(`kafka-${n.id} ignored SIGTERM for 30s and was killed`);
        removeFile(n.pidFile);
      }),
    );
  }

  async status(): Promise<ComponentStatus[]> {
    const layout = this.formattedLayout() ?? 'single';
    const rows: ComponentStatus[] = [];
    for (const node of this.nodes(layout)) {
      const pid = this.nodePid(node);
      if (pid === undefined) {
        rows.push({
          name: `kafka-${node.id}`,
          port: node.port,
          state: 'stopped',
          detail: existsSync(path.join(node.data, 'meta.properties')) ? 'formatted' : 'not formatted',
        });
        continue;
      }
      const open = await tcpOpen(this.topo.kafka.host, node.port);
      rows.push({
        name: `kafka-${node.id}`,
        pid,
        port: node.port,
        state: open ? 'healthy' : 'unhealthy',
        detail: open ? `broker+controller, layout ${layout}` : 'port not accepting connections',
        pssKb: treePssKb(pid),
      });
    }
    if (rows.some((r) => r.state === 'healthy')) rows.push(await this.clusterStatus(layout));
    return rows;
  }

  private async clusterStatus(layout: LayoutName): Promise<ComponentStatus> {
    const admin = this.admin(layout, { retries: 1 });
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      const topics = new Set(await admin.listTopics());
      const missing = this.topo.topics.filter((t) => !topics.has(t.name)).map((t) => t.name);
      const healthy = cluster.brokers.length === this.topo.kafka.layouts[layout].brokers && missing.length === 0;
      return {
        name: 'kafka-cluster',
        state: healthy ? 'healthy' : 'unhealthy',
        detail: `${cluster.brokers.length} broker(s), controller ${cluster.controller}, ${this.topo.topics.length - missing.length}/${this.topo.topics.length} topics${missing.length ? ` (missing: ${missing.join(', ')})` : ''}`,
      };
    } catch (err) {
      return { name: 'kafka-cluster', state: 'unhealthy', detail: `admin client failed: ${(err as Error).message}` };
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  logFiles(nodeId?: number): string[] {
    const layout = this.formattedLayout() ?? 'single';
    return this.nodes(layout)
      .filter((n) => nodeId === undefined || n.id === nodeId)
      .flatMap((n) => [path.join(n.logs, 'server.log'), n.stdout]);
  }
}
