import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { InfraError } from './errors';
import {
  assertPortFree,
  ensureDir,
  reserveListenPorts,
  isAlive,
  ownedPid,
  removeFile,
  startDetached,
  stopPid,
  tailFile,
  tcpOpen,
  treePssKb,
  waitFor,
} from './proc';
import type { ComponentStatus } from './status';
import { LocalKafka } from './kafka';
import { allListenPorts, localAddressing, REPO_ROOT, serviceEnv, type LayoutName, type ServiceSpec, type Topology } from './topology';

/** SIGTERM grace before SIGKILL: services drain in-flight calls and commit Kafka offsets on SIGTERM. */
const STOP_GRACE_MS = 10_000;
const PROBE_TIMEOUT_MS = 2_000;

export interface Probe {
  ready: boolean;
  detail: string;
}

/** Services sorted so every peer starts before the services that call it (topology order otherwise). */
export function startOrder(services: ServiceSpec[]): ServiceSpec[] {
  const byName = new Map(services.map((s) => [s.name, s]));
  const ordered: ServiceSpec[] = [];
  const seen = new Set<string>();
  // The topology rejects peer cycles, so a plain depth-first walk terminates.
  const visit = (s: ServiceSpec): void => {
    if (seen.has(s.name)) return;
    seen.add(s.name);
    for (const peer of s.peers) {
      const p = byName.get(peer);
      if (p) visit(p);
    }
    ordered.push(s);
  };
  services.forEach(visit);
  return ordered;
}

/**
 * The environment of a service process: the caller's, minus NODE_OPTIONS (tsx or a debugger may have put
 * loaders there), plus what the topology derives (which sets NODE_OPTIONS to the service's heap cap).
 */
export function processEnv(
  topo: Topology,
  name: string,
  parent: NodeJS.ProcessEnv,
  layout: LayoutName = 'single',
  overrides: Record<string, string> = {},
): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _loaders, ...inherited } = parent;
  const env: NodeJS.ProcessEnv = { ...inherited, ...serviceEnv(topo, name, localAddressing(topo, layout)) };
  const { NODE_OPTIONS: extraOptions, ...rest } = overrides;
  // Extra Node flags (e.g. --cpu-prof) go beside the heap cap, never instead of it.
  if (extraOptions) env['NODE_OPTIONS'] = [env['NODE_OPTIONS'], extraOptions].filter(Boolean).join(' ');
  return { ...env, ...rest };
}

/** One line out of the gateway's /health body: which checks are down and why. */
export function summarizeHealth(status: number, body: string): string {
  try {
    const report = JSON.parse(body) as { checks?: Record<string, { status?: string; detail?: string }> };
    const down = Object.entries(report.checks ?? {})
      .filter(([, c]) => c.status !== 'up')
      .map(([name, c]) => `${name} ${c.detail ? `(${c.detail})` : 'down'}`);
    if (down.length > 0) return `HTTP ${status}: ${down.join(', ')}`;
  } catch {
    /* not the gateway's JSON: fall through to the raw status */
  }
  return `HTTP ${status}`;
}

/**
 * How a built service is launched: Node services as `node -r dist/instrumentation.js dist/main.js` (the
 * Docker image's command), Go services as their binary `dist/<name>` (`nx build` output). `main` doubles as
 * the build artefact whose existence means "built" and as the pid marker in the process's command line.
 */
export function serviceLaunch(spec: ServiceSpec, root: string = REPO_ROOT): { main: string; command: string; args: string[] } {
  const dist = path.join(root, 'services', spec.name, 'dist');
  if (spec.runtime === 'go') {
    const bin = path.join(dist, spec.name);
    return { main: bin, command: bin, args: [] };
  }
  const main = path.join(dist, 'main.js');
  return { main, command: process.execPath, args: ['-r', path.join(dist, 'instrumentation.js'), main] };
}

interface ServicePaths {
  spec: ServiceSpec;
  main: string;
  command: string;
  args: string[];
  pidFile: string;
  logFile: string;
  /** Fingerprint of the build the running process was started from. */
  buildFile: string;
}

/**
 * The platform's own services as detached Node processes (`node -r dist/instrumentation.js dist/main.js`,
 * the same command as the Docker image), with pid and log under .tessera/services. A service is started only
 * when its build output exists, so services appear here as soon as they are built.
 */
/**
 * Which implementation is the analytics aggregate stage: `TESSERA_AGGREGATE_STAGE=ts` (default, stream-processor) or
 * `go` (stream-processor-go). Both compute the same aggregates (tests/contract/vectors); see README "TypeScript or Go".
 */
export function aggregateStage(env: NodeJS.ProcessEnv = process.env): 'ts' | 'go' | 'both' {
  const v = (env['TESSERA_AGGREGATE_STAGE'] ?? 'ts').trim().toLowerCase();
  if (v !== 'ts' && v !== 'go' && v !== 'both')
    throw new InfraError(
      `TESSERA_AGGREGATE_STAGE=${v} is none of ts, go, both`,
      'unset it (TS stage), or set TESSERA_AGGREGATE_STAGE=go (Go stage) or both (side by side)',
    );
  return v;
}

/**
 * The extra env a service starts with for the chosen aggregate stage: with `both`, a service with `compareEnv` (the Go
 * stage) runs beside the one it duplicates on its own group and outputs.
 */
export function stageEnv(spec: ServiceSpec, stage: ReturnType<typeof aggregateStage>): Record<string, string> {
  return stage === 'both' && spec.compareEnv ? spec.compareEnv : {};
}

export class LocalServices {
  readonly dir: string;

  constructor(private readonly topo: Topology) {
    this.dir = path.join(REPO_ROOT, topo.stateDir, 'services');
  }

  private paths(spec: ServiceSpec): ServicePaths {
    return {
      spec,
      ...serviceLaunch(spec),
      pidFile: path.join(this.dir, `${spec.name}.pid`),
      logFile: path.join(this.dir, `${spec.name}.log`),
      buildFile: path.join(this.dir, `${spec.name}.build`),
    };
  }

  /** The named services (all when none are named) in start order; unknown names are an error. */
  private select(names: string[]): ServicePaths[] {
    const known = new Set(this.topo.services.map((s) => s.name));
    const unknown = names.filter((n) => !known.has(n));
    if (unknown.length > 0) throw new InfraError(`unknown service ${unknown.join(', ')}`, `one of: ${[...known].join(', ')}`);
    return startOrder(this.topo.services)
      .filter((s) => names.length === 0 || names.includes(s.name))
      .map((s) => this.paths(s));
  }

  private built(p: ServicePaths): boolean {
    return existsSync(p.main);
  }

  /** Pid of our process for this service; the marker (absolute main.js path) rules out a reused pid. */
  pid(p: ServicePaths): number | undefined {
    return ownedPid(p.pidFile, p.main);
  }

  logFile(name: string): string {
    const [p] = this.select([name]);
    if (!p) throw new InfraError(`unknown service ${name}`);
    return p.logFile;
  }

  /**
   * Starts the named services (all when none are named) that are not running. `env` is added to each started
   * process's environment (NODE_OPTIONS is appended to the heap cap): the bench uses it for tracing-off and
   * --cpu-prof runs; a service already running keeps the environment it was started with (`restart` changes it).
   */
  async up(names: string[], timeoutMs: number, log: (line: string) => void, env: Record<string, string> = {}): Promise<void> {
    ensureDir(this.dir);
    reserveListenPorts(allListenPorts(this.topo), log);
    const started = Date.now();
    let count = 0;
    const stage = aggregateStage();
    for (const p of this.select(names)) {
      const { name } = p.spec;
      if (!this.built(p)) {
        log(`${name}: not built (no ${path.relative(REPO_ROOT, p.main)}), skipped`);
        continue;
      }
      // TESSERA_AGGREGATE_STAGE=go: the Go processor is the aggregate stage instead of the TS one (issue #15). Never
      // both on the shared topics (every event counted twice): a running TS processor is stopped.
      if (stage === 'go' && name === 'stream-processor' && !names.includes(name)) {
        if (this.pid(p) !== undefined) await this.stop(p, log);
        log(`${name}: TESSERA_AGGREGATE_STAGE=go runs stream-processor-go instead, skipped`);
        continue;
      }
      // As with compose profiles: e.g. stream-processor-go would count every event a second time beside
      // stream-processor, so a profiled service runs only when named (or chosen as the aggregate stage, or beside it).
      if (p.spec.profile !== undefined && !names.includes(name) && !(stage !== 'ts' && name === 'stream-processor-go')) {
        log(`${name}: profile ${p.spec.profile}, start it by name (services up ${name}), skipped`);
        continue;
      }
      count++;
      const running = this.pid(p);
      if (running !== undefined && this.buildChanged(p)) {
        log(`${name}: build or aggregate stage changed since the running process started (pid ${running}), restarting`);
        await this.stop(p, log);
      } else if (running !== undefined) {
        if ((await this.probe(p.spec)).ready) {
          log(`${name} already running (pid ${running})`);
          continue;
        }
        log(`${name} running (pid ${running}) but not ready yet, waiting`);
        await this.awaitReady(p, running, timeoutMs);
        log(`${name} ready`);
        continue;
      }
      if (p.spec.port !== undefined) assertPortFree(p.spec.port, `service ${name}`);
      writeFileSync(p.buildFile, `${this.startKey(p)}\n`);
      // The log is appended to across restarts; a marker shows where this run begins.
      appendFileSync(p.logFile, `--- ${new Date().toISOString()} starting ${name} (npm run infra -- services up)\n`);
      const pid = startDetached({
        command: p.command,
        args: p.args,
        cwd: REPO_ROOT, // as in the Docker image (WORKDIR = repo root)
        logFile: p.logFile,
        pidFile: p.pidFile,
        // Every broker of the layout Kafka runs in (up --brokers 3), not just the first.
        env: processEnv(this.topo, name, process.env, new LocalKafka(this.topo).formattedLayout() ?? 'single', {
          ...env,
          ...stageEnv(p.spec, stage),
        }),
      });
      const t0 = Date.now();
      log(
        `started ${name} (pid ${pid}, ${p.spec.runtime === 'go' ? 'GOMEMLIMIT' : 'heap ≤'}${p.spec.heapMb} MB${p.spec.port !== undefined ? `, ${p.spec.kind} :${p.spec.port}` : ''}${Object.keys(stageEnv(p.spec, stage)).length > 0 ? ', side by side on its own group and output topics' : ''})`,
      );
      await this.awaitReady(p, pid, timeoutMs);
      log(`${name} ready in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    }
    if (count === 0) throw new InfraError('no service is built', 'npx nx run-many -t build');
    log(`services up in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  }

  /** Stops and starts the named services, with `env` added (see `up`); without `env` they get the topology's again. */
  async restart(names: string[], timeoutMs: number, log: (line: string) => void, env: Record<string, string> = {}): Promise<void> {
    await this.down(names, log);
    await this.up(names, timeoutMs, log, env);
  }

  /** Pid of a named service's running process, or undefined when it is not running. */
  pidOf(name: string): number | undefined {
    const [p] = this.select([name]);
    return p ? this.pid(p) : undefined;
  }

  /** Stops services in reverse start order, so callers go before the services they call. */
  async down(names: string[], log: (line: string) => void): Promise<void> {
    for (const p of this.select(names).reverse()) await this.stop(p, log);
  }

  private async stop(p: ServicePaths, log: (line: string) => void): Promise<void> {
    const pid = this.pid(p);
    if (pid === undefined) {
      removeFile(p.pidFile); // stale: the process is gone or the pid was reused
      return;
    }
    log(`stopping ${p.spec.name} (pid ${pid})`);
    const how = await stopPid(pid, STOP_GRACE_MS);
    if (how === 'killed') log(`${p.spec.name} ignored SIGTERM for ${STOP_GRACE_MS / 1000}s and was killed`);
    removeFile(p.pidFile);
    removeFile(p.buildFile);
  }

  async status(): Promise<ComponentStatus[]> {
    const rows: ComponentStatus[] = [];
    for (const p of this.select([])) {
      const { name, port } = p.spec;
      const pid = this.pid(p);
      if (pid === undefined) {
        rows.push({ name, port, state: 'stopped', detail: this.built(p) ? 'built, not running' : 'not built' });
        continue;
      }
      const probe = await this.probe(p.spec);
      rows.push({
        name,
        pid,
        port,
        state: probe.ready ? 'healthy' : 'unhealthy',
        detail: `${probe.detail}; heap ≤${p.spec.heapMb} MB${this.buildChanged(p) ? '; build or stage changed, `up` restarts it' : ''}`,
        pssKb: treePssKb(pid),
      });
    }
    return rows;
  }

  /** Readiness: gRPC health SERVING, the HTTP /health 200, or for a worker simply being alive. */
  async probe(spec: ServiceSpec): Promise<Probe> {
    if (spec.port === undefined) return { ready: true, detail: 'running (worker, no health endpoint)' };
    const host = '127.0.0.1';
    if (!(await tcpOpen(host, spec.port))) return { ready: false, detail: `port ${spec.port} not open` };
    if (spec.kind === 'grpc') {
      // Loaded lazily: @tessera/grpc resolves to libs/grpc/dist, which exists once anything is built, while
      // the rest of this CLI must work on a fresh clone before the first build.
      const { checkHealth, grpcTransportFromEnv } = await import('@tessera/grpc');
      try {
        // Over the service's own transport (mTLS with its own certificate, or the explicit plaintext dev mode):
        // a plaintext probe of an mTLS server would only ever see a refused handshake.
        const credentials = grpcTransportFromEnv(spec.name, processEnv(this.topo, spec.name, process.env)).client;
        const status = await checkHealth(`${host}:${spec.port}`, '', { timeoutMs: PROBE_TIMEOUT_MS, credentials });
        return { ready: status === 'SERVING', detail: `grpc health ${status}` };
      } catch (err) {
        return { ready: false, detail: `grpc health check failed: ${(err as Error).message}` };
      }
    }
    try {
      const res = await fetch(`http://${host}:${spec.port}/health`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
      const body = await res.text();
      return res.status === 200 ? { ready: true, detail: 'GET /health 200' } : { ready: false, detail: summarizeHealth(res.status, body) };
    } catch (err) {
      return { ready: false, detail: `GET /health failed: ${(err as Error).message}` };
    }
  }

  private async awaitReady(p: ServicePaths, pid: number, timeoutMs: number): Promise<void> {
    let last: Probe = { ready: false, detail: 'not probed yet' };
    const ok = await waitFor(async () => {
      if (!isAlive(pid)) return true; // stop waiting; reported below
      last = await this.probe(p.spec);
      return last.ready;
    }, timeoutMs);
    const log = path.relative(REPO_ROOT, p.logFile);
    if (!isAlive(pid)) {
      removeFile(p.pidFile);
      throw new InfraError(
        `${p.spec.name} exited during startup`,
        `fix the cause in ${log} (tail below), then run up again`,
        tailFile(p.logFile, 25),
      );
    }
    if (!ok) {
      throw new InfraError(
        `${p.spec.name} (pid ${pid}) not ready within ${timeoutMs / 1000}s: ${last.detail}`,
        `it is still running: see ${log}, \`npm run infra -- services down ${p.spec.name}\` to stop it (a slow machine may need --timeout <s>)`,
        tailFile(p.logFile, 25),
      );
    }
  }

  /**
   * True when the service's or a lib's compiled code differs from what the process was started from, so a
   * second `npm run up` after a code change runs the new code. By content, not mtime: Nx restores cached
   * outputs (new mtimes, same bytes) on every build, which must not restart anything. A change of the aggregate stage
   * that changes the service's env (side by side or not) counts too.
   */
  private buildChanged(p: ServicePaths): boolean {
    let startedFrom: string;
    try {
      startedFrom = readFileSync(p.buildFile, 'utf8').trim();
    } catch {
      return false; // started by hand or by an older CLI: nothing to compare with
    }
    return startedFrom !== this.startKey(p);
  }

  /** What a running process was started from: its build, plus its side-by-side env when it has one. */
  private startKey(p: ServicePaths): string {
    const extra = stageEnv(p.spec, aggregateStage());
    return Object.keys(extra).length > 0 ? `${this.buildFingerprint(p)} ${JSON.stringify(extra)}` : this.buildFingerprint(p);
  }

  /** sha256 over the .js files of the service's dist and every libs/<name>/dist (about 1 MB: milliseconds). */
  private buildFingerprint(p: ServicePaths): string {
    const libs = path.join(REPO_ROOT, 'libs');
    const hash = createHash('sha256');
    if (p.spec.runtime === 'go') return hash.update(readFileSync(p.main)).digest('hex'); // one static binary
    const roots = [
      path.dirname(p.main),
      ...(existsSync(libs)
        ? readdirSync(libs)
            .sort()
            .map((l) => path.join(libs, l, 'dist'))
        : []),
    ];
    for (const file of roots.flatMap(jsFiles))
      hash.update(path.relative(REPO_ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
    return hash.digest('hex');
  }
}

/** The .js files under a folder, sorted (none when it does not exist). */
function jsFiles(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((e) => {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) return jsFiles(full);
      return e.name.endsWith('.js') ? [full] : [];
    });
}
