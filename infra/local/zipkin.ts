import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { InfraError } from './errors';
import { assertJava } from './kafka-runtime';
import { assertPortFree, ensureDir, ownedPid, removeFile, startDetached, stopPid, tailFile, treePssKb, waitFor } from './proc';
import type { ComponentStatus } from './status';
import { REPO_ROOT, type Topology } from './topology';

export const ZIPKIN_POM = path.join(REPO_ROOT, 'infra', 'zipkin', 'pom.xml');
const ZIPKIN_CACHE = path.join(REPO_ROOT, '.cache', 'zipkin');
export const ZIPKIN_JAR = path.join(ZIPKIN_CACHE, 'zipkin-server.jar');
/** sha256 of the pom the jar was resolved from; scripts/bootstrap.sh writes the same stamp. */
const STAMP = path.join(ZIPKIN_CACHE, 'pom.sha256');
/** On the command line so `ownedPid` recognises our JVM (a reused pid belongs to something else). */
const MARKER = '-Dtessera.component=zipkin';

const pomHash = () => createHash('sha256').update(readFileSync(ZIPKIN_POM)).digest('hex');
const jarCurrent = () => existsSync(ZIPKIN_JAR) && existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim().split(/\s+/)[0] === pomHash();

/** Resolves the Zipkin exec jar from Maven Central when infra/zipkin/pom.xml changed (first run only otherwise). */
export function ensureZipkinJar(log: (line: string) => void): void {
  if (jarCurrent()) return;
  if (spawnSync('mvn', ['-v']).error) {
    throw new InfraError(
      'the Zipkin server jar is not in .cache/zipkin and mvn is not installed to fetch it',
      'apt-get install -y maven   (or: bash scripts/bootstrap.sh)',
    );
  }
  log('resolving the Zipkin server jar from Maven Central into .cache/zipkin (first run only)');
  ensureDir(ZIPKIN_CACHE);
  const res = spawnSync('mvn', ['-B', '-q', '-Dstyle.color=never', '-f', ZIPKIN_POM, 'dependency:copy'], { stdio: 'inherit' });
  if (res.status !== 0 || !existsSync(ZIPKIN_JAR)) {
    throw new InfraError(
      'mvn could not resolve the Zipkin server jar',
      'check network access to Maven Central, then rerun `bash scripts/bootstrap.sh`',
    );
  }
  writeFileSync(STAMP, `${pomHash()}  infra/zipkin/pom.xml\n`);
}

/**
 * The JVM command line for Zipkin: fixed small heap (the JVM default is a quarter of RAM), in-memory storage
 * bounded by maxSpans, and the HTTP port bound to the topology host only (loopback: traces show request
 * shapes and tenant ids). Spring Boot takes `--key=value` arguments; Zipkin reads STORAGE_TYPE etc. from env.
 */
export function zipkinCommand(t: Topology): { args: string[]; env: Record<string, string> } {
  const z = t.observability.zipkin;
  return {
    args: [
      `-Xms${Math.min(64, z.heapMb)}m`,
      `-Xmx${z.heapMb}m`,
      '-XX:+UseSerialGC',
      '-XX:MaxMetaspaceSize=128m',
      '-XX:ReservedCodeCacheSize=48m',
      '-XX:MaxDirectMemorySize=64m',
      '-Xss512k',
      '-XX:TieredStopAtLevel=1',
      // A JVM that ran out of heap limps on half-dead; exiting lets `status` say so and `up` restart it.
      '-XX:+ExitOnOutOfMemoryError',
      MARKER,
      '-jar',
      ZIPKIN_JAR,
      // A command-line list replaces Zipkin's whole `armeria.ports` list, so port and protocol are restated.
      `--armeria.ports[0].ip=${z.host}`,
      `--armeria.ports[0].port=${z.port}`,
      '--armeria.ports[0].protocols[0]=http',
    ],
    env: {
      STORAGE_TYPE: 'mem',
      MEM_MAX_SPANS: String(z.maxSpans),
      QUERY_PORT: String(z.port),
      SELF_TRACING_ENABLED: 'false',
      COLLECTOR_SCRIBE_ENABLED: 'false',
    },
  };
}

/** Zipkin server (trace store + Lens UI) as a detached JVM with its pid and log under .tessera/zipkin. */
export class LocalZipkin {
  readonly dir: string;
  readonly logFile: string;
  private readonly pidFile: string;

  constructor(private readonly topo: Topology) {
    this.dir = path.join(REPO_ROOT, topo.stateDir, 'zipkin');
    this.logFile = path.join(this.dir, 'zipkin.log');
    this.pidFile = path.join(this.dir, 'zipkin.pid');
  }

  get baseUrl(): string {
    const z = this.topo.observability.zipkin;
    return `http://${z.host}:${z.port}`;
  }

  pid(): number | undefined {
    return ownedPid(this.pidFile, MARKER);
  }

  async healthy(): Promise<boolean> {
    try {
      const res = await fetch(`${this.baseUrl}/health`, { signal: AbortSignal.timeout(1000) });
      return res.ok && ((await res.json()) as { status?: string }).status === 'UP';
    } catch {
      return false;
    }
  }

  async up(timeoutMs: number, log: (line: string) => void): Promise<void> {
    const running = this.pid();
    if (running !== undefined) {
      log(`zipkin already running (pid ${running})`);
    } else {
      assertJava();
      ensureZipkinJar(log);
      assertPortFree(this.topo.observability.zipkin.port, 'zipkin');
      ensureDir(this.dir);
      const { args, env } = zipkinCommand(this.topo);
      const pid = startDetached({
        command: 'java',
        args,
        cwd: REPO_ROOT,
        logFile: this.logFile,
        pidFile: this.pidFile,
        env: { ...process.env, ...env },
      });
      log(
        `started zipkin (pid ${pid}, heap ${this.topo.observability.zipkin.heapMb} MB, in-memory, max ${this.topo.observability.zipkin.maxSpans} spans)`,
      );
    }
    const ok = await waitFor(async () => (await this.healthy()) || this.pid() === undefined, timeoutMs);
    if (!ok || this.pid() === undefined) {
      throw new InfraError(
        this.pid() === undefined ? 'zipkin exited during startup' : `zipkin not healthy within ${timeoutMs / 1000}s`,
        `see ${path.relative(REPO_ROOT, this.logFile)}`,
        tailFile(this.logFile, 20),
      );
    }
    log(`zipkin ready: UI ${this.baseUrl}/zipkin/`);
  }

  async down(log: (line: string) => void): Promise<void> {
    const pid = this.pid();
    if (pid === undefined) return;
    log(`stopping zipkin (pid ${pid})`);
    await stopPid(pid, 15000);
    removeFile(this.pidFile);
  }

  async status(): Promise<ComponentStatus> {
    const port = this.topo.observability.zipkin.port;
    const pid = this.pid();
    if (pid === undefined) return { name: 'zipkin', port, state: 'stopped', detail: 'trace backend (npm run infra -- up)' };
    const ok = await this.healthy();
    return {
      name: 'zipkin',
      pid,
      port,
      state: ok ? 'healthy' : 'unhealthy',
      detail: ok ? `traces, UI ${this.baseUrl}/zipkin/` : '/health not UP',
      pssKb: treePssKb(pid),
    };
  }
}
