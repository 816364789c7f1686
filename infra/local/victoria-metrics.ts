import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { InfraError } from './errors';
import { assertPortFree, ensureDir, ownedPid, removeFile, startDetached, stopPid, tailFile, treePssKb, waitFor } from './proc';
import type { ComponentStatus } from './status';
import { REPO_ROOT, type Topology } from './topology';

export const VM_MODULE = 'github.com/VictoriaMetrics/VictoriaMetrics/app/victoria-metrics';
const GO_BIN = path.join(REPO_ROOT, '.cache', 'go', 'bin');
export const VM_BINARY = path.join(GO_BIN, 'victoria-metrics');

/** Where a scrape target is reached: loopback natively, the service's container name under Compose. */
export type TargetHost = (service: string) => string;

/**
 * Prometheus-format scrape config for VictoriaMetrics, generated from the topology: every service with a
 * metricsPort, plus Zipkin's own /prometheus (spans accepted/dropped). A `service` label per target keeps
 * dashboards readable even for a process that has not started yet (no service_name from its resource).
 */
export function scrapeConfig(t: Topology, host: TargetHost, zipkinTarget: string): string {
  const services = t.services.filter((s) => s.metricsPort !== undefined);
  const config = {
    global: { scrape_interval: t.observability.victoriaMetrics.scrapeInterval, scrape_timeout: '4s' },
    scrape_configs: [
      {
        job_name: 'tessera-services',
        static_configs: services.map((s) => ({ targets: [`${host(s.name)}:${s.metricsPort}`], labels: { service: s.name } })),
      },
      { job_name: 'zipkin', metrics_path: '/prometheus', static_configs: [{ targets: [zipkinTarget], labels: { service: 'zipkin' } }] },
    ],
  };
  return `# GENERATED from infra/topology.yaml (infra/local/victoria-metrics.ts). Do not edit by hand.\n${stringify(config, { lineWidth: 0 })}`;
}

/** The module version the binary was built from (`go version -m`), or undefined when it is missing. */
function builtVersion(): string | undefined {
  if (!existsSync(VM_BINARY)) return undefined;
  const res = spawnSync('go', ['version', '-m', VM_BINARY], { encoding: 'utf8' });
  return /^\s*mod\s+\S+\s+(\S+)/m.exec(res.stdout ?? '')?.[1];
}

/**
 * Builds VictoriaMetrics single-node into .cache/go/bin with `go install` at the topology's version (the Go
 * module proxy caches it; ~30 s and ~300 MB of RAM on a 2-core box the first time). Its vmui is embedded in
 * the module (go:embed of the committed build), so no npm build is needed.
 */
export function ensureVictoriaMetrics(t: Topology, log: (line: string) => void): void {
  const want = t.observability.victoriaMetrics.version;
  if (builtVersion() === want) return;
  if (spawnSync('go', ['version']).error) {
    throw new InfraError(
      'victoria-metrics is not built and Go is missing to build it',
      'install Go from https://go.dev/dl, then bash scripts/bootstrap.sh',
    );
  }
  log(`building victoria-metrics ${want} into .cache/go/bin (go install, first run only)`);
  const res = spawnSync('go', ['install', `${VM_MODULE}@${want}`], { stdio: 'inherit', env: { ...process.env, GOBIN: GO_BIN } });
  if (res.status !== 0)
    throw new InfraError(
      `go install ${VM_MODULE}@${want} failed`,
      'check access to the Go module proxy, then rerun `bash scripts/bootstrap.sh`',
    );
}

/**
 * VictoriaMetrics single-node (Prometheus-compatible query API + vmui) scraping every service, as a detached
 * process with its data, config, pid and log under .tessera/victoria-metrics.
 */
export class LocalVictoriaMetrics {
  readonly dir: string;
  readonly logFile: string;
  readonly configFile: string;
  private readonly dataDir: string;
  private readonly pidFile: string;

  constructor(private readonly topo: Topology) {
    this.dir = path.join(REPO_ROOT, topo.stateDir, 'victoria-metrics');
    this.dataDir = path.join(this.dir, 'data');
    this.configFile = path.join(this.dir, 'scrape.yml');
    this.logFile = path.join(this.dir, 'victoria-metrics.log');
    this.pidFile = path.join(this.dir, 'victoria-metrics.pid');
  }

  get baseUrl(): string {
    const v = this.topo.observability.victoriaMetrics;
    return `http://${v.host}:${v.port}`;
  }

  pid(): number | undefined {
    return ownedPid(this.pidFile, `-storageDataPath=${this.dataDir}`);
  }

  async healthy(): Promise<boolean> {
    try {
      const res = await fetch(`${this.baseUrl}/health`, { signal: AbortSignal.timeout(1000) });
      return res.ok;
    } catch {
      return false;
    }
  }

  /** Command-line flags: bounded memory, short retention, queries that include the newest samples (demo use). */
  args(): string[] {
    const v = this.topo.observability.victoriaMetrics;
    return [
      `-httpListenAddr=${v.host}:${v.port}`,
      `-storageDataPath=${this.dataDir}`,
      `-retentionPeriod=${v.retention}`,
      `-memory.allowedBytes=${v.memoryMb}MB`,
      `-promscrape.config=${this.configFile}`,
      // The default 30 s hides the newest samples from queries; a live demo wants them.
      '-search.latencyOffset=5s',
      '-loggerLevel=WARN',
    ];
  }

  async up(timeoutMs: number, log: (line: string) => void): Promise<void> {
    ensureDir(this.dir);
    const z = this.topo.observability.zipkin;
    const config = scrapeConfig(this.topo, () => '127.0.0.1', `${z.host}:${z.port}`);
    const changed = !existsSync(this.configFile) || readFileSync(this.configFile, 'utf8') !== config;
    if (changed) writeFileSync(this.configFile, config);
    const running = this.pid();
    if (running !== undefined) {
      if (changed) {
        // VictoriaMetrics re-reads -promscrape.config on SIGHUP: a topology change needs no restart.
        process.kill(running, 'SIGHUP');
        log(`victoria-metrics already running (pid ${running}); scrape config changed, reloaded`);
      } else log(`victoria-metrics already running (pid ${running})`);
    } else {
      ensureVictoriaMetrics(this.topo, log);
      assertPortFree(this.topo.observability.victoriaMetrics.port, 'victoria-metrics');
      const pid = startDetached({ command: VM_BINARY, args: this.args(), cwd: REPO_ROOT, logFile: this.logFile, pidFile: this.pidFile });
      log(
        `started victoria-metrics (pid ${pid}, memory ${this.topo.observability.victoriaMetrics.memoryMb} MB, retention ${this.topo.observability.victoriaMetrics.retention})`,
      );
    }
    const ok = await waitFor(async () => (await this.healthy()) || this.pid() === undefined, timeoutMs, 250);
    if (!ok || this.pid() === undefined) {
      throw new InfraError(
        this.pid() === undefined ? 'victoria-metrics exited during startup' : `victoria-metrics not healthy within ${timeoutMs / 1000}s`,
        `see ${path.relative(REPO_ROOT, this.logFile)}`,
        tailFile(this.logFile, 20),
      );
    }
    log(`victoria-metrics ready: vmui ${this.baseUrl}/vmui/`);
  }

  async down(log: (line: string) => void): Promise<void> {
    const pid = this.pid();
    if (pid === undefined) return;
    log(`stopping victoria-metrics (pid ${pid})`);
    await stopPid(pid, 15000);
    removeFile(this.pidFile);
  }

  /** Scrape targets by health, from the Prometheus-compatible /api/v1/targets. */
  async targets(): Promise<{ up: number; total: number }> {
    const res = await fetch(`${this.baseUrl}/api/v1/targets`, { signal: AbortSignal.timeout(2000) });
    const body = (await res.json()) as { data?: { activeTargets?: { health: string }[] } };
    const active = body.data?.activeTargets ?? [];
    return { up: active.filter((x) => x.health === 'up').length, total: active.length };
  }

  async status(): Promise<ComponentStatus> {
    const port = this.topo.observability.victoriaMetrics.port;
    const pid = this.pid();
    if (pid === undefined) return { name: 'victoria-metrics', port, state: 'stopped', detail: 'metrics backend (npm run infra -- up)' };
    if (!(await this.healthy()))
      return { name: 'victoria-metrics', pid, port, state: 'unhealthy', detail: '/health failing', pssKb: treePssKb(pid) };
    const t = await this.targets().catch(() => undefined);
    const scraping = t ? `, ${t.up}/${t.total} targets up` : '';
    return {
      name: 'victoria-metrics',
      pid,
      port,
      state: 'healthy',
      detail: `metrics${scraping}, vmui ${this.baseUrl}/vmui/`,
      pssKb: treePssKb(pid),
    };
  }
}
