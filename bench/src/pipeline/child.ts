import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { REPO_ROOT } from '../../../infra/local/topology';

/**
 * A measured child process, started behind a gate so the bench can take the CPU "before" snapshot of its pid
 * first: `sh` waits for a line on stdin, then runs the command. In `exec` mode the shell becomes the command
 * (same pid: long-running processors stopped with SIGTERM). In `wait` mode the shell runs it, prints
 * `__EXIT <code>` and waits for a second line: the command's CPU lands in the live shell's cutime/cstime, so
 * the tree CPU read after the command exited still counts it (a reaped process's /proc entry is gone).
 */
export class GatedChild {
  readonly proc: ChildProcess;
  readonly pid: number;
  /** performance.now() when the command was released (undefined before `go`). */
  startedAt?: number;
  private readonly lines: { at: number; text: string }[] = [];
  private readonly waiters: (() => void)[] = [];
  private exitCode: number | null | undefined;
  private readonly logFd: number;

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    opts: { env: NodeJS.ProcessEnv; logFile: string; mode: 'exec' | 'wait'; parseStdout: boolean },
  ) {
    const script = opts.mode === 'exec' ? 'read _ ; exec "$@"' : 'read _ ; "$@"; echo "__EXIT $?"; read _';
    this.logFd = openSync(opts.logFile, 'a');
    this.proc = spawn('sh', ['-c', script, 'sh', command, ...args], {
      cwd: REPO_ROOT,
      env: opts.env,
      stdio: ['pipe', opts.parseStdout ? 'pipe' : this.logFd, this.logFd],
    });
    if (this.proc.pid === undefined) throw new Error(`${name}: could not start ${command}`);
    this.pid = this.proc.pid;
    let partial = '';
    this.proc.stdout?.on('data', (chunk: Buffer) => {
      const at = performance.now();
      writeSync(this.logFd, chunk);
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      for (const text of parts) this.lines.push({ at, text });
      this.wake();
    });
    this.proc.on('exit', (code) => {
      this.exitCode = code;
      this.wake();
    });
    this.proc.stdin?.on('error', () => undefined); // EPIPE when the shell is already gone
  }

  /** Releases the command; returns the performance.now() of the release. */
  go(): number {
    this.startedAt = performance.now();
    this.proc.stdin?.write('\n');
    return this.startedAt;
  }

  get exited(): boolean {
    return this.exitCode !== undefined;
  }

  /** The first stdout line matching `pred` (with its arrival time), waiting up to `timeoutMs`. */
  async waitForLine(pred: (line: string) => boolean, timeoutMs: number): Promise<{ at: number; text: string }> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.find((l) => pred(l.text));
      if (hit) return hit;
      if (this.exited) throw new Error(`${this.name} exited (code ${this.exitCode}) before the expected output`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`${this.name}: no expected output within ${timeoutMs / 1000}s`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 1000));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  stdoutLines(): string[] {
    return this.lines.map((l) => l.text);
  }

  /** Ends a `wait`-mode shell (second stdin line) or signals the process, then waits for it (SIGKILL after `graceMs`). */
  async stop(signal: NodeJS.Signals | 'release', graceMs = 15_000): Promise<void> {
    if (!this.exited) {
      if (signal === 'release') this.proc.stdin?.end('\n');
      else this.proc.kill(signal);
      const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
      const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref());
      if ((await Promise.race([exited, timer])) === 'timeout' && !this.exited) {
        this.proc.kill('SIGKILL');
        await exited;
      }
    }
    try {
      closeSync(this.logFd);
    } catch {
      /* closed already */
    }
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** The last lines of a log file, for error messages. */
export function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
