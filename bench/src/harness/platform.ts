import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { LocalKafka } from '../../../infra/local/kafka';
import { LocalPostgres } from '../../../infra/local/postgres';
import { LocalServices } from '../../../infra/local/services';
import { databaseUrl, kafkaBrokers, loadTopology, REPO_ROOT, serviceEnv, type Topology } from '../../../infra/local/topology';
import { LocalVictoriaMetrics } from '../../../infra/local/victoria-metrics';
import { LocalZipkin } from '../../../infra/local/zipkin';

const SERVICE_TIMEOUT_MS = 90_000;

/**
 * Settings the bench gives services on top of the topology's. The gateway's per-client rate limits (read
 * 600/min, write 120/min by default) would answer most of a closed-loop benchmark with 429: the limiter
 * still runs on every request, with buckets too large to empty.
 */
export const BENCH_SERVICE_ENV: Record<string, Record<string, string>> = {
  gateway: {
    GATEWAY_RATE_LIMITS: 'public=1000000/1s,read=1000000/1s,write=1000000/1s,ingest=1000000/1s,live=1000000/1s,auth-failure=1000000/1s',
  },
};

/** A process the bench watches: a platform component or a baseline it started. */
export interface Component {
  name: string;
  pid: number;
}

/**
 * The platform as `npm run up` runs it (same topology, same service environment, tracing to the local
 * Zipkin), brought up by the bench when it is not running. Services the bench restarts with other settings
 * (tracing off, --cpu-prof) are restarted with the topology's settings at the end; services it started are
 * stopped again, so a bench leaves the machine as it found it.
 */
export class BenchPlatform {
  readonly topo: Topology = loadTopology();
  readonly services = new LocalServices(this.topo);
  private readonly runningBefore = new Set<string>();
  private readonly altered = new Set<string>();

  constructor(private readonly log: (line: string) => void) {}

  get brokers(): string[] {
    return kafkaBrokers(this.topo, new LocalKafka(this.topo).formattedLayout() ?? 'single');
  }

  /** Connection string of a database in the platform's cluster (as the services get it). */
  databaseUrl(database: string): string {
    return databaseUrl(this.topo, database);
  }

  /** The environment the topology gives a service (its address, database URL, credentials paths). */
  env(service: string): Record<string, string> {
    return serviceEnv(this.topo, service);
  }

  portOf(service: string): number {
    const port = this.topo.services.find((s) => s.name === service)?.port;
    if (port === undefined) throw new Error(`service ${service} has no port in infra/topology.yaml`);
    return port;
  }

  /** Infrastructure, migrations, credentials and every default service (idempotent, like `npm run up` minus demo data). */
  async up(): Promise<void> {
    for (const s of this.topo.services) if (this.services.pidOf(s.name) !== undefined) this.runningBefore.add(s.name);
    this.cli('infrastructure (PostgreSQL, Kafka, Zipkin, VictoriaMetrics)', ['infra/local/cli.ts', 'up']);
    this.cli('dev credentials', ['libs/auth/src/cli.ts', 'init']);
    this.cli('mTLS certificates', ['infra/local/cli.ts', 'certs']);
    this.cli('migrations', ['libs/db/src/cli.ts', 'migrate', '--all']);
    await this.services.up([], SERVICE_TIMEOUT_MS, this.log);
    for (const [name, env] of Object.entries(BENCH_SERVICE_ENV)) if (!this.runsWith(name, env)) await this.restart([name]);
  }

  /** True when the service's running process already has `env` (read from /proc/<pid>/environ). */
  runsWith(name: string, env: Record<string, string>): boolean {
    const pid = this.pid(name);
    if (pid === undefined) return false;
    try {
      const vars = new Set(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0'));
      return Object.entries(env).every(([k, v]) => vars.has(`${k}=${v}`));
    } catch {
      return false;
    }
  }

  /** Restarts services with the bench settings plus `env` (e.g. tracing off, NODE_OPTIONS=--cpu-prof); `restore` undoes it. */
  async restart(names: string[], env: Record<string, string> = {}): Promise<void> {
    for (const n of names) {
      this.altered.add(n);
      await this.services.restart([n], SERVICE_TIMEOUT_MS, this.log, { ...BENCH_SERVICE_ENV[n], ...env });
    }
  }

  /** Starts a service that is not in the default set (e.g. stream-processor-go), or stops one. */
  async start(name: string, env: Record<string, string> = {}): Promise<void> {
    await this.services.up([name], SERVICE_TIMEOUT_MS, this.log, { ...BENCH_SERVICE_ENV[name], ...env });
  }

  async stop(name: string): Promise<void> {
    await this.services.down([name], this.log);
  }

  /** Restart this service with the topology's settings at the end (e.g. its inspector was opened for a profile). */
  markAltered(name: string): void {
    this.altered.add(name);
  }

  /** A PostgreSQL CHECKPOINT, waited for (see LocalPostgres.checkpoint): before each measured case that writes. */
  checkpoint(): Promise<void> {
    return new LocalPostgres(this.topo).checkpoint();
  }

  pid(name: string): number | undefined {
    return this.services.pidOf(name);
  }

  /** Every running component with its pid: PostgreSQL, Kafka broker(s), observability backends, services. */
  async components(): Promise<Component[]> {
    const rows = [
      await new LocalPostgres(this.topo).status(),
      ...(await new LocalKafka(this.topo).status()),
      await new LocalZipkin(this.topo).status(),
      await new LocalVictoriaMetrics(this.topo).status(),
    ];
    const infra = rows.filter((r) => r.pid !== undefined).map((r) => ({ name: r.name, pid: r.pid as number }));
    const services = this.topo.services.flatMap((s) => {
      const pid = this.services.pidOf(s.name);
      return pid === undefined ? [] : [{ name: s.name, pid }];
    });
    return [...infra, ...services];
  }

  /** Services back to the topology's settings; the ones the bench started are stopped. */
  async restore(): Promise<void> {
    const started = this.topo.services.map((s) => s.name).filter((n) => !this.runningBefore.has(n) && this.services.pidOf(n) !== undefined);
    if (started.length > 0) {
      this.log(`stopping the services the bench started: ${started.join(', ')}`);
      await this.services.down(started, this.log);
    }
    const back = [...this.altered].filter((n) => this.runningBefore.has(n));
    if (back.length > 0) {
      this.log(`restarting ${back.join(', ')} with the topology's settings`);
      await this.services.restart(back, SERVICE_TIMEOUT_MS, this.log);
    }
    for (const n of this.topo.services.map((s) => s.name)) {
      if (!this.runningBefore.has(n) && this.services.pidOf(n) !== undefined) await this.services.down([n], this.log);
    }
  }

  private cli(what: string, args: string[]): void {
    this.log(what);
    const res = spawnSync(process.execPath, ['--import', 'tsx', ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
    });
    if (res.status !== 0) throw new Error(`${what} failed (exit ${res.status}): ${args.join(' ')}\n${res.stdout}\n${res.stderr}`);
  }
}
