/**
 * A three-broker Kafka of the chaos scenarios' own (RF 3, min ISR 2; ports 29092/29094/29096, data and credentials
 * under `.tessera-chaos/`), started with the platform's code (infra/local/kafka.ts, the `triple` layout, with the same
 * authentication and ACLs), so a scenario can kill a broker without touching the shared one.
 */
import * as path from 'node:path';
import { readFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { parse, stringify } from 'yaml';
/* eslint-disable @nx/enforce-module-boundaries -- infra/local is repo tooling, not an Nx project: the scenario starts a cluster with the platform's own code */
import { ensureCerts } from '../../../infra/local/certs';
import { LocalKafka } from '../../../infra/local/kafka';
import { KAFKA_ADMIN_PRINCIPAL, kafkaClientEnv, kafkaJsAuth } from '../../../infra/local/kafka-auth';
import { DEFAULT_TOPOLOGY_PATH, kafkaBrokers, parseTopology, REPO_ROOT, type Topology } from '../../../infra/local/topology';

const PORTS = [29092, 29094, 29096];

export class ChaosKafka {
  readonly topo: Topology;
  readonly kafka: LocalKafka;
  readonly stateDir: string;

  constructor() {
    const raw = parse(readFileSync(DEFAULT_TOPOLOGY_PATH, 'utf8')) as {
      stateDir: string;
      kafka: { layouts: { single: { nodes: unknown[] }; triple: { nodes: unknown[] } } };
    };
    raw.stateDir = '.tessera-chaos';
    raw.kafka.layouts.triple.nodes = PORTS.map((port, i) => ({ id: i + 1, port, controllerPort: port + 1 }));
    raw.kafka.layouts.single.nodes = [{ id: 1, port: 29092, controllerPort: 29093 }];
    this.topo = parseTopology(stringify(raw), 'chaos topology');
    this.kafka = new LocalKafka(this.topo);
    this.stateDir = path.join(REPO_ROOT, this.topo.stateDir);
  }

  get brokers(): string[] {
    return kafkaBrokers(this.topo, 'triple');
  }

  /** Starts every node that is not running (all three at first; a killed one later), waits for the cluster. */
  async up(): Promise<void> {
    ensureCerts(this.topo, () => undefined);
    await this.kafka.up('triple', 120_000, () => undefined);
  }

  /** kill -9 of one node; returns its id. */
  kill(nodeId: number): void {
    const node = this.kafka.nodes('triple').find((n) => n.id === nodeId);
    const pid = node ? this.kafka.nodePid(node) : undefined;
    if (pid === undefined) throw new Error(`chaos kafka-${nodeId} is not running`);
    process.kill(pid, 'SIGKILL');
  }

  down(): Promise<void> {
    return this.kafka.down(() => undefined);
  }

  /** The client environment of the admin principal on this cluster (services of the scenario connect with it). */
  clientEnv(): Record<string, string> {
    return { KAFKA_BROKERS: this.brokers.join(','), ...kafkaClientEnv(this.stateDir, KAFKA_ADMIN_PRINCIPAL) };
  }

  client(clientId: string): Kafka {
    return new Kafka({ clientId, brokers: this.brokers, logLevel: logLevel.NOTHING, ...kafkaJsAuth(this.stateDir) });
  }
}
