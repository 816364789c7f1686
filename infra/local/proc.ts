import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { InfraError } from './errors';

/** True when a process with this pid exists (signal 0 probes without touching it). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

export function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt((readFileSync(file, 'utf8').split('\n')[0] ?? '').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The pid from a pid file, but only if that process is alive AND its command line still contains `marker`:
 * after a reboot the same pid can belong to an unrelated process, which we must never signal.
 */
export function ownedPid(file: string, marker: string): number | undefined {
  const pid = readPid(file);
  return pid !== undefined && isAlive(pid) && cmdline(pid).includes(marker) ? pid : undefined;
}

export interface DetachedSpec {
  command: string;
  args: string[];
  cwd: string;
  logFile: string;
  pidFile: string;
  env?: NodeJS.ProcessEnv;
}

/** Starts a process that outlives the CLI (own session, stdout/stderr to a log file) and records its pid. */
export function startDetached(spec: DetachedSpec): number {
  const fd = openSync(spec.logFile, 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    if (child.pid === undefined) throw new InfraError(`could not start ${spec.command}`);
    child.unref();
    writeFileSync(spec.pidFile, `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** SIGTERM, wait up to `graceMs`, then SIGKILL; resolves once the process is gone. */
export async function stopPid(pid: number, graceMs: number): Promise<'graceful' | 'killed' | 'not-running'> {
  if (!isAlive(pid)) return 'not-running';
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid) || isZombie(pid)) return 'graceful';
    await sleep(200);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* exited between the check and the kill */
  }
  for (let i = 0; i < 50 && isAlive(pid) && !isZombie(pid); i++) await sleep(100);
  return 'killed';
}

function isZombie(pid: number): boolean {
  try {
    return /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

export function removeFile(file: string): void {
  rmSync(file, { force: true });
}

export function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
}

/** Resolves true if something accepts TCP connections on host:port within timeoutMs. */
export function tcpOpen(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Polls `probe` until it returns true or the timeout elapses. */
export async function waitFor(probe: () => Promise<boolean>, timeoutMs: number, intervalMs = 500): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}

/**
 * Pids of processes listening on a TCP port, found through /proc (no dependency on ss/lsof, which slim
 * images lack). Needs root to see other users' sockets; returns [] when it cannot tell.
 */
export function listeningPids(port: number): number[] {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // cols[1] = local address "IP:PORT", cols[3] = state (0A = LISTEN), cols[9] = inode
      const [, local, , state, , , , , , inode] = cols;
      if (state === '0A' && local?.endsWith(`:${hexPort}`) && inode) inodes.add(inode);
    }
  }
  if (inodes.size === 0) return [];
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${entry}/fd/${fd}`));
        if (m?.[1] && inodes.has(m[1])) {
          pids.push(Number(entry));
          break;
        }
      } catch {
        /* fd closed while scanning */
      }
    }
  }
  return pids;
}

/** True if the port has a listener (by /proc), used before starting anything on it. */
export function portListening(port: number): boolean {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return ['/proc/net/tcp', '/proc/net/tcp6'].some(
    (table) =>
      existsSync(table) &&
      readFileSync(table, 'utf8')
        .split('\n')
        .some((line) => {
          const cols = line.trim().split(/\s+/);
          return cols[3] === '0A' && (cols[1]?.endsWith(hexPort) ?? false);
        }),
  );
}

const PORT_RANGE_FILE = '/proc/sys/net/ipv4/ip_local_port_range';
const RESERVED_PORTS_FILE = '/proc/sys/net/ipv4/ip_local_reserved_ports';

/** Parses a sysctl port list such as `8080,50051-50054` into its ports. */
export function parsePortList(text: string): Set<number> {
  const ports = new Set<number>();
  for (const part of text.trim().split(',')) {
    const [a, b] = part.split('-').map((x) => Number.parseInt(x, 10));
    if (a === undefined || !Number.isInteger(a)) continue;
    for (let p = a; p <= (b !== undefined && Number.isInteger(b) ? b : a); p++) ports.add(p);
  }
  return ports;
}

/**
 * Keeps the platform's listen ports out of Linux's ephemeral range. The kernel gives outgoing connections a source
 * port from `ip_local_port_range` (32768-60999 by default), which holds 50051-50054 (gRPC) and 55432 (PostgreSQL):
 * a Kafka or database client that happened to get 50052 made compliance's bind fail with EADDRINUSE although nothing
 * listened there (seen in CI). Ports in `ip_local_reserved_ports` are never handed out that way. Needs root; without
 * it (or in a read-only /proc) this prints the sysctl to run and carries on. Idempotent; returns the ports it added.
 */
export function reserveListenPorts(ports: number[], log: (line: string) => void): number[] {
  let lo: number;
  let hi: number;
  let reserved: Set<number>;
  let current: string;
  try {
    [lo = 0, hi = -1] = readFileSync(PORT_RANGE_FILE, 'utf8').trim().split(/\s+/).map(Number);
    current = readFileSync(RESERVED_PORTS_FILE, 'utf8').trim();
    reserved = parsePortList(current);
  } catch {
    return []; // not Linux, or no such sysctl
  }
  const missing = [...new Set(ports)].filter((p) => p >= lo && p <= hi && !reserved.has(p)).sort((a, b) => a - b);
  if (missing.length === 0) return [];
  const wanted = [current, ...missing.map(String)].filter((x) => x !== '').join(',');
  try {
    writeFileSync(RESERVED_PORTS_FILE, wanted);
  } catch (err) {
    log(
      `ports ${missing.join(', ')} lie in the ephemeral range ${lo}-${hi}: an outgoing connection may take one and a listener then fails with EADDRINUSE (${(err as NodeJS.ErrnoException).code ?? 'not writable'}); as root: sysctl -w net.ipv4.ip_local_reserved_ports=${wanted}`,
    );
    return [];
  }
  log(`reserved ports ${missing.join(', ')} (net.ipv4.ip_local_reserved_ports): outgoing connections no longer take them as source ports`);
  return missing;
}

/** Throws a clear error if a process other than `ours` listens on the port. */
export function assertPortFree(port: number, what: string, ours: number[] = []): void {
  if (!portListening(port)) return;
  const holders = listeningPids(port).filter((p) => !ours.includes(p));
  if (holders.length === 0 && ours.length > 0) return;
  const who =
    holders.length > 0
      ? holders.map((p) => `pid ${p} (${cmdline(p).replace(/\s+/g, ' ').slice(0, 80) || '?'})`).join(', ')
      : 'an unknown process';
  throw new InfraError(
    `port ${port} (${what}) is already in use by ${who}`,
    holders.length > 0
      ? `stop that process (kill ${holders.join(' ')}) or change the port in infra/topology.yaml`
      : 'stop the process holding it, or change the port in infra/topology.yaml',
  );
}

/** Parent pid -> child pids of every live process, from one walk of /proc (a walk costs ~2 ms of CPU with ~100 processes). */
export function childrenOf(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      /* exited */
    }
  }
  return children;
}

/**
 * `rootPid` and every live descendant (from /proc's parent links), root first. Pass `children` from one
 * `childrenOf()` when walking several trees at the same moment.
 */
export function processTree(rootPid: number, children: Map<number, number[]> = childrenOf()): number[] {
  const tree: number[] = [];
  const stack = [rootPid];
  for (let pid = stack.pop(); pid !== undefined; pid = stack.pop()) {
    tree.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** Sum over a process and its descendants of one `<field>: <n> kB` line of a /proc/<pid>/ file. */
function treeKb(rootPid: number, file: 'smaps_rollup' | 'status', field: string, children?: Map<number, number[]>): number {
  const line = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm');
  let total = 0;
  for (const pid of processTree(rootPid, children)) {
    try {
      const m = line.exec(readFileSync(`/proc/${pid}/${file}`, 'utf8'));
      total += m ? Number(m[1]) : 0;
    } catch {
      /* exited or not readable */
    }
  }
  return total;
}

/**
 * PSS of a process and its descendants (kB): shared pages split between the processes that map them. Reading
 * smaps_rollup walks the page tables in the kernel (~10 ms for a JVM with a 448 MB heap), paid by the reader.
 */
export function treePssKb(rootPid: number, children?: Map<number, number[]>): number {
  return treeKb(rootPid, 'smaps_rollup', 'Pss', children);
}

/** RSS of a process and its descendants (kB): shared pages counted in every process. */
export function treeRssKb(rootPid: number, children?: Map<number, number[]>): number {
  return treeKb(rootPid, 'status', 'VmRSS', children);
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux x86_64 and arm64). */
const USER_HZ = 100;

/**
 * CPU seconds (user + system) used so far by a process and its live descendants, plus the children they
 * have already waited for (cutime/cstime). Take it before and after a run: the difference is the run's cost.
 */
export function treeCpuSeconds(rootPid: number, children?: Map<number, number[]>): number {
  let ticks = 0;
  for (const pid of processTree(rootPid, children)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Fields 14-17 of proc(5) (utime stime cutime cstime) are 11-14 here, after "pid (comm) ".
      ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch {
      /* exited */
    }
  }
  return ticks / USER_HZ;
}

export function tailFile(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  } catch {
    return `(no log at ${file})`;
  }
}

/** Runs a command to completion; throws InfraError with its output on a non-zero exit. */
export function run(command: string, args: string[], opts: SpawnSyncOptions & { what: string; fix?: string }): string {
  const res = spawnSync(command, args, { encoding: 'utf8', ...opts });
  if (res.error) throw new InfraError(`${opts.what}: ${res.error.message}`, opts.fix);
  if (res.status !== 0) {
    throw new InfraError(`${opts.what} failed (exit ${res.status})`, opts.fix, `${res.stdout ?? ''}${res.stderr ?? ''}`.trim());
  }
  return String(res.stdout ?? '');
}
