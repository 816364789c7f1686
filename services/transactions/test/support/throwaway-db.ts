import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { dropDatabase, ensureDatabase, migrate } from '@tessera/db';
import { Client } from 'pg';

const ADMIN_URL = process.env['TESSERA_PG_ADMIN_URL'] ?? 'postgresql://tessera:tessera@127.0.0.1:55432/postgres';
const MIGRATIONS_DIR = path.resolve(__dirname, '../../prisma/migrations');

export interface ThrowawayDb {
  url: string;
  name: string;
  client: Client;
  drop(): Promise<void>;
}

/** A fresh, migrated transactions database per test file, dropped afterwards. */
export async function throwawayDb(label: string): Promise<ThrowawayDb> {
  const name = `tessera_txtest_${label}_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  await ensureDatabase(url.toString());
  await migrate(url.toString(), MIGRATIONS_DIR);
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  return {
    url: url.toString(),
    name,
    client,
    drop: async () => {
      await client.end().catch(() => undefined);
      await dropDatabase(ADMIN_URL, name).catch(() => undefined);
    },
  };
}
