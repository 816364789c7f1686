import { type ChildProcess, spawn } from 'node:child_process';
import { REPO_ROOT } from '../../../infra/local/topology';

/** A bench helper process (baseline server, client loop) run with tsx on the pinned Node, so its CPU and memory are its own. */
export interface BenchChild {
  child: ChildProcess;
  pid: number;
  /** Lines the process printed so far (stdout and stderr). */
  output: string[];
  stop(): Promise<void>;
}

/** Starts `node --import tsx <script>` and resolves once a line matches `ready` (rejects on exit or after `timeoutMs`). */
export async function startTsChild(
  script: string,
  env: Record<string, string>,
  ready: RegExp,
  timeoutMs = 30_000,
): Promise<BenchChild & { match: RegExpExecArray }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} not ready within ${timeoutMs} ms:\n${output.join('\n')}`)), timeoutMs);
    const onData = (buf: Buffer) => {
      for (const line of buf.toString('utf8').split('\n').filter(Boolean)) {
        output.push(line);
        const m = ready.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(m);
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}:\n${output.join('\n')}`));
    });
  });
  return {
    child,
    pid: child.pid as number,
    output,
    match,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
