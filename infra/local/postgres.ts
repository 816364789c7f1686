import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  chownSync,
  existsSync,
  lstatSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';
import { Client, escapeIdentifier, escapeLiteral } from 'pg';
import { InfraError } from './errors';
import { assertPortFree, ensureDir, ownedPid, run, tailFile, tcpOpen, treePssKb, waitFor } from './proc';
import { REPO_ROOT, type Topology } from './topology';
import type { ComponentStatus } from './status';

const INSTALL_FIX = 'apt-get install -y postgresql   (or: bash scripts/bootstrap.sh)';

interface OsUser {
  name: string;
  uid: number;
  gid: number;
}

/**
 * A PostgreSQL cluster owned by this checkout: its own data dir, port and socket dir under .tessera/postgres,
 * never the Debian system cluster. Started with pg_ctl, which daemonizes and keeps postmaster.pid for us.
 */
export class LocalPostgres {
  /** `.tessera/postgres`: the cluster's folder, or a symlink to it (see placeForOsUser). */
  readonly link: string;
  dir = '';
  dataDir = '';
  socketDir = '';
  logFile = '';

  constructor(private readonly topo: Topology) {
    this.link = path.join(REPO_ROOT, topo.stateDir, 'postgres');
    this.locate(existsSync(this.link) ? realpathSync(this.link) : this.link);
  }

  private locate(dir: string): void {
    this.dir = dir;
    this.dataDir = path.join(dir, 'data');
    this.socketDir = path.join(dir, 'run');
    this.logFile = path.join(dir, 'postgres.log');
  }

  /**
   * The postgres OS user must reach its data dir. When the checkout lives where it cannot (e.g. under a
   * 0700 /root), the cluster goes to /var/tmp/tessera-pg-<hash of the checkout> and .tessera/postgres links
   * there; we pass postgres the real path so it never has to walk through the checkout.
   */
  private placeForOsUser(user: OsUser | undefined, log: (line: string) => void): void {
    if (!user || existsSync(this.link)) return;
    const stateDir = path.dirname(this.link);
    ensureDir(stateDir);
    if (spawnSync('test', ['-x', stateDir], { uid: user.uid, gid: user.gid }).status === 0) return;
    // Hashed from the link's own path, so a second state dir (another topology, tests/chaos) gets its own cluster.
    const external = path.join('/var/tmp', `tessera-pg-${createHash('sha256').update(this.link).digest('hex').slice(0, 12)}`);
    ensureDir(external);
    symlinkSync(external, this.link);
    log(
      `OS user ${user.name} cannot enter ${path.relative(process.cwd(), stateDir)}; cluster placed in ${external} (linked from ${path.relative(REPO_ROOT, this.link)})`,
    );
    this.locate(external);
  }

  /** Deletes the cluster's files (call after down), including an external folder the link points to. */
  wipe(): void {
    if (existsSync(this.link) && lstatSync(this.link).isSymbolicLink()) {
      const target = realpathSync(this.link);
      if (target.startsWith('/var/tmp/tessera-pg-')) rmSync(target, { recursive: true, force: true });
    }
    rmSync(this.link, { recursive: true, force: true });
  }

  /** postmaster pid, if our cluster (this data dir) is the one running. */
  pid(): number | undefined {
    return ownedPid(path.join(this.dataDir, 'postmaster.pid'), this.dataDir);
  }

  async up(timeoutMs: number, log: (line: string) => void): Promise<void> {
    const bin = findPgBin();
    const running = this.pid();
    if (running !== undefined) {
      log(`postgres already running (pid ${running}), checking health`);
    } else {
      assertPortFree(this.topo.postgres.port, 'postgres');
      const user = postgresOsUser();
      this.placeForOsUser(user, log);
      ensureDir(this.socketDir);
      if (user) for (const d of [this.dir, this.socketDir]) chownSync(d, user.uid, user.gid);
      if (!existsSync(path.join(this.dataDir, 'PG_VERSION'))) {
        log(
          `initdb ${this.dataDir.startsWith(REPO_ROOT) ? path.relative(REPO_ROOT, this.dataDir) : this.dataDir}${user ? ` (as OS user ${user.name}; postgres refuses root)` : ''}`,
        );
        this.asUser(
          user,
          path.join(bin, 'initdb'),
          ['-D', this.dataDir, '-U', 'postgres', '--encoding=UTF8', '--locale=C', '--auth-local=trust', '--auth-host=scram-sha-256'],
          'initdb',
        );
        // Our settings live in one file we rewrite on every `up`, so topology changes apply on restart.
        appendFileSync(path.join(this.dataDir, 'postgresql.conf'), "\ninclude_if_exists = 'tessera.conf'\n");
      }
      writeFileSync(path.join(this.dataDir, 'tessera.conf'), this.settings());
      if (user) chownSync(path.join(this.dataDir, 'tessera.conf'), user.uid, user.gid);
      log(`starting postgres on ${this.topo.postgres.host}:${this.topo.postgres.port}`);
      try {
        this.asUser(
          user,
          path.join(bin, 'pg_ctl'),
          ['-D', this.dataDir, '-l', this.logFile, '-w', '-t', String(Math.ceil(timeoutMs / 1000)), '-s', 'start'],
          'pg_ctl start',
        );
      } catch (err) {
        throw new InfraError(
          `postgres did not start: ${(err as Error).message}`,
          `see ${path.relative(REPO_ROOT, this.logFile)}`,
          tailFile(this.logFile, 20),
        );
      }
    }
    const ok = await waitFor(() => this.superuserReady(), timeoutMs);
    if (!ok) {
      throw new InfraError(
        `postgres did not accept connections within ${timeoutMs / 1000}s`,
        'check the log below, then `npm run infra -- down` and retry',
        tailFile(this.logFile, 20),
      );
    }
    await this.provision(log);
    const unhealthy = await this.unhealthyDatabases();
    if (unhealthy.length > 0) throw new InfraError(`cannot connect as ${this.topo.postgres.user} to ${unhealthy.join(', ')}`);
  }

  async down(log: (line: string) => void): Promise<void> {
    const pid = this.pid();
    if (pid === undefined) return;
    log(`stopping postgres (pid ${pid})`);
    try {
      this.asUser(
        postgresOsUser(),
        path.join(findPgBin(), 'pg_ctl'),
        ['-D', this.dataDir, '-m', 'fast', '-w', '-t', '30', '-s', 'stop'],
        'pg_ctl stop',
      );
    } catch {
      // Fast shutdown did not finish: immediate mode aborts backends (crash recovery on next start, no data loss).
      log('postgres did not stop in 30s, using immediate shutdown');
      this.asUser(
        postgresOsUser(),
        path.join(findPgBin(), 'pg_ctl'),
        ['-D', this.dataDir, '-m', 'immediate', '-w', '-t', '15', '-s', 'stop'],
        'pg_ctl stop -m immediate',
      );
    }
  }

  async status(): Promise<ComponentStatus> {
    const pid = this.pid();
    const port = this.topo.postgres.port;
    if (pid === undefined)
      return { name: 'postgres', port, state: 'stopped', detail: existsSync(this.dataDir) ? 'initialised' : 'not initialised' };
    const unhealthy = (await tcpOpen(this.topo.postgres.host, port)) ? await this.unhealthyDatabases() : ['(port closed)'];
    return {
      name: 'postgres',
      pid,
      port,
      state: unhealthy.length === 0 ? 'healthy' : 'unhealthy',
      detail: unhealthy.length === 0 ? `${this.topo.postgres.databases.length} databases` : `unreachable: ${unhealthy.join(', ')}`,
      pssKb: treePssKb(pid),
    };
  }

  private settings(): string {
    const pg = this.topo.postgres;
    return [
      '# Written by infra/local (npm run infra -- up) from infra/topology.yaml; edits here are overwritten.',
      `port = ${pg.port}`,
      `listen_addresses = '${pg.host}'`,
      `unix_socket_directories = '${this.socketDir}'`,
      `max_connections = ${pg.maxConnections}`,
      `shared_buffers = ${pg.sharedBuffersMb}MB`,
      'work_mem = 4MB',
      'maintenance_work_mem = 64MB',
      'max_wal_size = 512MB',
      // Per-statement totals for profiling (the bench and `psql -d postgres -c 'SELECT … FROM pg_stat_statements'`);
      // ~1-2% overhead. Takes effect when PostgreSQL (re)starts.
      "shared_preload_libraries = 'pg_stat_statements'",
      'pg_stat_statements.track = top',
      "log_line_prefix = '%m [%p] %q%u@%d '",
      "log_timezone = 'UTC'",
      "timezone = 'UTC'",
      '',
    ].join('\n');
  }

  /** Runs a postgres tool as the cluster's OS user (setuid via spawn: no su/sudo needed). */
  private asUser(user: OsUser | undefined, command: string, args: string[], what: string): string {
    return run(command, args, {
      what,
      cwd: this.dir,
      ...(user ? { uid: user.uid, gid: user.gid, env: { ...process.env, HOME: this.dir, USER: user.name } } : {}),
    });
  }

  private superuserClient(): Client {
    // Unix socket + trust: the socket dir is private to the cluster's OS user (and root).
    return new Client({
      host: this.socketDir,
      port: this.topo.postgres.port,
      user: 'postgres',
      database: 'postgres',
      connectionTimeoutMillis: 2000,
    });
  }

  private async superuserReady(): Promise<boolean> {
    const client = this.superuserClient();
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /**
   * Forces a checkpoint (as the superuser, over the private socket) and waits for it: the bench starts every measured
   * case with no spread checkpoint in progress, whose writes would otherwise slow whichever case they overlap (a
   * pgbench sandwich of 772 / 194 tps, 2026-12-03).
   */
  async checkpoint(): Promise<void> {
    const client = this.superuserClient();
    await client.connect();
    try {
      await client.query('CHECKPOINT');
    } finally {
      await client.end();
    }
  }

  /** Creates (or converges) the application role and one database per service; safe to repeat. */
  private async provision(log: (line: string) => void): Promise<void> {
    const { user, password, databases } = this.topo.postgres;
    const client = this.superuserClient();
    await client.connect();
    try {
      const role = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [user]);
      // CREATEDB because `prisma migrate dev` needs a shadow database.
      const attrs = `LOGIN CREATEDB PASSWORD ${escapeLiteral(password)}`;
      await client.query(`${role.rowCount === 0 ? 'CREATE' : 'ALTER'} ROLE ${escapeIdentifier(user)} ${attrs}`);
      if (role.rowCount === 0) log(`created role ${user}`);
      // The view lives in the `postgres` database; pg_read_all_stats lets the application role see every
      // database's statements, not only its own sessions'. Skipped (with a note) until a restart loads the library.
      const loaded = await client.query(
        "SELECT 1 FROM pg_settings WHERE name = 'shared_preload_libraries' AND setting LIKE '%pg_stat_statements%'",
      );
      if (loaded.rowCount === 0) log('pg_stat_statements not loaded yet: restart PostgreSQL (npm run infra -- down, then up) to enable it');
      else await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
      await client.query(`GRANT pg_read_all_stats TO ${escapeIdentifier(user)}`);
      for (const db of databases) {
        const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [db.name]);
        if (exists.rowCount === 0) {
          await client.query(
            `CREATE DATABASE ${escapeIdentifier(db.name)} OWNER ${escapeIdentifier(user)} ENCODING 'UTF8' TEMPLATE template0`,
          );
          log(`created database ${db.name} (for ${db.service})`);
        }
      }
    } finally {
      await client.end();
    }
  }

  /** Databases the application role cannot query over TCP (what services actually do). */
  private async unhealthyDatabases(): Promise<string[]> {
    const { host, port, user, password, databases } = this.topo.postgres;
    const failed: string[] = [];
    for (const db of databases) {
      const client = new Client({ host, port, user, password, database: db.name, connectionTimeoutMillis: 2000 });
      try {
        await client.connect();
        await client.query('SELECT 1');
      } catch {
        failed.push(db.name);
      } finally {
        await client.end().catch(() => undefined);
      }
    }
    return failed;
  }
}

/** Newest installed PostgreSQL server bin dir (Debian layout), or $TESSERA_PG_BIN. */
export function findPgBin(): string {
  const override = process.env['TESSERA_PG_BIN'];
  if (override) {
    if (!existsSync(path.join(override, 'pg_ctl'))) throw new InfraError(`TESSERA_PG_BIN=${override} has no pg_ctl`, INSTALL_FIX);
    return override;
  }
  const root = '/usr/lib/postgresql';
  const [newest] = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(path.join(root, v, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (newest !== undefined) return path.join(root, newest, 'bin');
  const which = spawnSync('sh', ['-c', 'command -v pg_ctl'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return path.dirname(which.stdout.trim());
  throw new InfraError('PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin and PATH)', INSTALL_FIX);
}

/**
 * The OS user the cluster runs as. Postgres refuses to run as root, so as root we use the `postgres` account
 * the Debian package creates (or a dedicated `tessera-pg` one); as anyone else we run as ourselves.
 */
function postgresOsUser(): OsUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'tessera-pg']) {
    const u = lookupUser(name);
    if (u) return u;
  }
  run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'tessera-pg'], { what: 'useradd tessera-pg' });
  const created = lookupUser('tessera-pg');
  if (!created) throw new InfraError('could not create the tessera-pg OS user to run postgres', 'create a non-root user for postgres');
  return created;
}

function lookupUser(name: string): OsUser | undefined {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) return undefined;
  const [, , uid, gid] = line.split(':');
  return { name, uid: Number(uid), gid: Number(gid) };
}
