import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';
import { findPgBin } from '../../../infra/local/postgres';
import type { BenchPlatform } from '../harness/platform';

/**
 * pgbench on a scratch database of the platform's cluster: the built-in TPC-B-like script (per transaction
 * 3 UPDATEs, 1 SELECT, 1 INSERT, fsync'd commit), prepared statements, the same client count as the HTTP load.
 */
export const PGBENCH_DB = 'tessera_bench_pgbench';

export interface PgbenchResult {
  tps: number;
  latencyAvgMs: number;
  transactions: number;
  failed: number;
  command: string;
}

export interface PgbenchConn {
  bin: string;
  host: string;
  port: number;
  user: string;
  env: NodeJS.ProcessEnv;
}

export function pgbenchConn(platform: BenchPlatform): PgbenchConn {
  const pg = platform.topo.postgres;
  return {
    bin: join(findPgBin(), 'pgbench'),
    host: pg.host,
    port: pg.port,
    user: pg.user,
    env: { ...process.env, PGPASSWORD: pg.password },
  };
}

function connArgs(c: PgbenchConn): string[] {
  return ['-h', c.host, '-p', String(c.port), '-U', c.user];
}

/** Creates the scratch database if missing and initialises it unless it already holds `scale` branches. */
export async function preparePgbench(
  platform: BenchPlatform,
  c: PgbenchConn,
  scale: number,
  log: (l: string) => void,
): Promise<string | undefined> {
  const admin = new Client({ connectionString: platform.databaseUrl('postgres') });
  await admin.connect();
  try {
    const exists = await admin.query('select 1 from pg_database where datname = $1', [PGBENCH_DB]);
    if (exists.rowCount === 0) {
      log(`creating database ${PGBENCH_DB}`);
      await admin.query(`create database ${PGBENCH_DB}`);
    }
  } finally {
    await admin.end();
  }
  const db = new Client({ connectionString: platform.databaseUrl(PGBENCH_DB) });
  await db.connect();
  let branches = -1;
  try {
    branches = Number((await db.query('select count(*)::int as n from pgbench_branches')).rows[0]?.n ?? -1);
  } catch {
    /* not initialised */
  } finally {
    await db.end();
  }
  if (branches === scale) return undefined;
  const args = ['-i', '-q', '-s', String(scale), ...connArgs(c), PGBENCH_DB];
  log(`pgbench ${args.join(' ')}`);
  const res = spawnSync(c.bin, args, { env: c.env, encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`pgbench -i failed (exit ${res.status}): ${res.stderr}`);
  return `${c.bin} ${args.join(' ')}`;
}

export function pgbenchArgs(c: PgbenchConn, clients: number, seconds: number): string[] {
  return ['-M', 'prepared', '-c', String(clients), '-j', '2', '-T', String(seconds), '-P', '1', ...connArgs(c), PGBENCH_DB];
}

/**
 * Starts one pgbench run under a tiny `sh` wrapper that waits for it and then stays alive until `release()`:
 * measure the wrapper's pid and pgbench's CPU counts (as the wrapper's cutime/cstime) even though pgbench has
 * exited when the measurement ends. `done` resolves with the summary once pgbench has exited.
 */
export function startPgbench(
  c: PgbenchConn,
  clients: number,
  seconds: number,
): { child: ChildProcess; done: Promise<PgbenchResult>; release: () => void } {
  const args = pgbenchArgs(c, clients, seconds);
  const command = `${c.bin} ${args.join(' ')}`;
  const child = spawn('sh', ['-c', '"$0" "$@"; echo "__pgbench_exit=$?"; read -r _', c.bin, ...args], {
    env: c.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const done = new Promise<PgbenchResult>((resolve, reject) => {
    child.on('error', reject);
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const exit = /__pgbench_exit=(\d+)/.exec(out);
      if (!exit) return;
      if (exit[1] !== '0') return reject(new Error(`pgbench failed (exit ${exit[1]}): ${err.slice(-500)}`));
      const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
      resolve({
        tps: num(/tps = ([\d.]+)/),
        latencyAvgMs: num(/latency average = ([\d.]+) ms/),
        transactions: num(/number of transactions actually processed: (\d+)/),
        failed: num(/number of failed transactions: (\d+)/) || 0,
        command,
      });
    });
  });
  return { child, done, release: () => child.stdin?.end() };
}
