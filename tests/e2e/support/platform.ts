import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { OtlpReceiver } from './otlp-receiver';
import { waitFor as waitForCheck } from '@tessera/testing';

/** Repository root, from tests/e2e/support. */
export const ROOT = resolve(__dirname, '../../..');
const E2E_DIR = join(ROOT, '.tessera', 'e2e');
/** Per test process: suites running at the same time (or a platform left running) never share log files. */
const RUN_DIR = join(E2E_DIR, `run-${process.pid}`);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Logs of finished test processes; kept until the next run so a failure can be inspected. */
function removeStaleRunDirs(): void {
  if (!existsSync(E2E_DIR)) return;
  for (const name of readdirSync(E2E_DIR)) {
    const pid = /^run-(\d+)$/.exec(name)?.[1];
    if (pid && Number(pid) !== process.pid && !alive(Number(pid))) rmSync(join(E2E_DIR, name), { recursive: true, force: true });
  }
}

export interface ServiceSpec {
  name: string;
  /** Compiled entry point relative to the service folder. */
  main?: string;
  /** A native executable and its arguments instead of Node + the entry point (the Go stream processor). */
  command?: string[];
  env: Record<string, string>;
  /** Resolves when the process is ready; throws with a reason otherwise. */
  ready: () => Promise<boolean>;
}

export interface RunningService {
  name: string;
  process: ChildProcess;
  logFile: string;
}

/**
 * Starts each service as a real Node process from its build output (`npx nx run-many -t build` first),
 * with OpenTelemetry loaded by `-r instrumentation.js` exactly as in production, and every signal exported over
 * OTLP/HTTP to `otlp`, this test process's in-process receiver, so tests follow one trace across processes
 * (with span links, which a Zipkin export would drop) and no other suite's spans can mix in.
 */
export async function startServices(specs: ServiceSpec[], otlp: OtlpReceiver, timeoutMs = 45_000): Promise<RunningService[]> {
  removeStaleRunDirs();
  mkdirSync(join(RUN_DIR, 'logs'), { recursive: true });
  const running: RunningService[] = [];
  try {
    for (const spec of specs) {
      const dir = join(ROOT, 'services', spec.name, 'dist');
      const main = spec.command?.[0] ?? join(dir, spec.main ?? 'main.js');
      if (!existsSync(main)) throw new Error(`${main} is missing: run "npx nx run-many -t build" first`);
      const logFile = join(RUN_DIR, 'logs', `${spec.name}.log`);
      const [file, args] = spec.command ? [main, spec.command.slice(1)] : [process.execPath, ['-r', join(dir, 'instrumentation.js'), main]];
      const child = spawn(file, args, {
        cwd: ROOT,
        // The in-process receiver speaks OTLP/JSON, which the Go exporter does not: a native command exports nothing here.
        // A spec's own OTEL_* settings win (e.g. the workshops' `otlp,zipkin`: Zipkin answers the lab's trace questions).
        env: { ...process.env, ...(spec.command ? { OTEL_TRACES_EXPORTER: 'none' } : otlp.env()), ...spec.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      // Appended: a service restarted by a chaos scenario keeps its earlier log in the same file.
      const log = createWriteStream(logFile, { flags: 'a' });
      child.stdout?.pipe(log);
      child.stderr?.pipe(log);
      running.push({ name: spec.name, process: child, logFile });
      await waitFor(`${spec.name} ready`, spec.ready, timeoutMs, () => {
        if (child.exitCode !== null) {
          throw new Error(`${spec.name} exited with ${child.exitCode}; log:\n${tail(logFile)}`);
        }
      });
    }
    return running;
  } catch (err) {
    await stopServices(running);
    throw err;
  }
}

export async function stopServices(running: RunningService[]): Promise<void> {
  await Promise.all(
    running.reverse().map(async ({ process: child }) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }),
  );
}

/**
 * Starts `name` again with its spec (a chaos scenario's kill -9 came first, or it is killed here) and puts the new
 * process in its place in `running`; `env` overrides the spec's environment for this start only.
 */
export async function restartService(
  running: RunningService[],
  specs: ServiceSpec[],
  name: string,
  otlp: OtlpReceiver,
  env: Record<string, string> = {},
  timeoutMs = 45_000,
): Promise<void> {
  const index = running.findIndex((s) => s.name === name);
  const spec = specs.find((s) => s.name === name);
  if (index < 0 || !spec) throw new Error(`no service ${name}`);
  const old = running[index];
  if (old && old.process.exitCode === null && old.process.signalCode === null) {
    const exited = new Promise((done) => old.process.once('exit', done));
    old.process.kill('SIGKILL');
    await exited;
  }
  const [fresh] = await startServices([{ ...spec, env: { ...spec.env, ...env } }], otlp, timeoutMs);
  if (fresh) running[index] = fresh;
}

export function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  onTick: () => void = () => undefined,
): Promise<void> {
  return waitForCheck(what, probe, { timeoutMs, intervalMs: 250, onTick });
}

export function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
