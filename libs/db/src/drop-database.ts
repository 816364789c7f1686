import { setTimeout as sleep } from 'node:timers/promises';
import { Client, type ClientConfig } from 'pg';
import { DbError } from './db.error';

/**
 * Drops a database, terminating its sessions (`DROP DATABASE ... WITH (FORCE)`); a missing database is fine.
 * `databaseUrl` names the server and, unless `name` is given, the database; the drop runs from the server's
 * `postgres` database.
 *
 * FORCE refuses (42501, "must be a member of the role whose process is being terminated") while an autovacuum worker
 * is in the database and the caller is not a superuser: the worker belongs to no role the caller may signal. Such a
 * worker is short-lived on the small databases that tests and shadow migrations make, so the drop is retried for up
 * to `waitMs` (CI failed on this once, 2026-12-03, dropping a test database).
 */
export async function dropDatabase(databaseUrl: string, name?: string, waitMs = 10_000): Promise<void> {
  const url = new URL(databaseUrl);
  const target = name ?? decodeURIComponent(url.pathname.replace(/^\//, ''));
  url.pathname = '/postgres';
  await dropDatabaseVia({ connectionString: url.toString() }, target, waitMs);
}

/** {@link dropDatabase} over an admin connection given as `pg` client settings (any database but `name`). */
export async function dropDatabaseVia(admin: ClientConfig, name: string, waitMs = 10_000): Promise<void> {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new DbError('DB.BAD_DATABASE_NAME', `unsupported database name: ${name}`);
  const client = new Client(admin);
  await client.connect();
  try {
    const deadline = Date.now() + waitMs;
    for (;;) {
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        return;
      } catch (err) {
        if ((err as { code?: string }).code !== '42501' || Date.now() >= deadline) throw err;
        await sleep(100);
      }
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}
