import { randomUUID } from 'node:crypto';
import { dropDatabase, ensureDatabase, migrate } from '@tessera/db';

/** The local cluster's admin connection (`npm run up`'s PostgreSQL); TESSERA_PG_ADMIN_URL points elsewhere. */
export const PG_ADMIN_URL = process.env['TESSERA_PG_ADMIN_URL'] ?? 'postgresql://tessera:tessera@127.0.0.1:55432/postgres';

export interface ThrowawayDatabase {
  name: string;
  /** Connection string of the new database (same credentials as the admin URL). */
  url: string;
  /** Drops it (idempotent; errors are swallowed so a failed test still cleans up what it can). */
  drop(): Promise<void>;
}

/** Connection string of database `name` on the admin URL's cluster. */
export function databaseUrl(name: string, adminUrl = PG_ADMIN_URL): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * A fresh database `<prefix>_<random>` on the local cluster (or `adminUrl`'s, e.g. the chaos suite's own PostgreSQL),
 * migrated with `migrationsDir` (a service's prisma/migrations) when given, for one test file or one e2e run; `drop()`
 * it afterwards.
 */
export async function throwawayDatabase(
  prefix: string,
  migrationsDir?: string,
  options: { adminUrl?: string } = {},
): Promise<ThrowawayDatabase> {
  const adminUrl = options.adminUrl ?? PG_ADMIN_URL;
  const name = `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
  const url = databaseUrl(name, adminUrl);
  await ensureDatabase(url);
  if (migrationsDir) await migrate(url, migrationsDir);
  let dropped = false;
  return {
    name,
    url,
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await dropDatabase(adminUrl, name).catch(() => undefined);
    },
  };
}
