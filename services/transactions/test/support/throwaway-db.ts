import path from 'node:path';
import { throwawayDatabase } from '@tessera/testing';
import { Client } from 'pg';

const MIGRATIONS_DIR = path.resolve(__dirname, '../../prisma/migrations');

export interface ThrowawayDb {
  url: string;
  name: string;
  client: Client;
  drop(): Promise<void>;
}

/** A fresh, migrated transactions database per test file (@tessera/testing), with a connected client; dropped afterwards. */
export async function throwawayDb(label: string): Promise<ThrowawayDb> {
  const database = await throwawayDatabase(`tessera_txtest_${label}`, MIGRATIONS_DIR);
  const client = new Client({ connectionString: database.url });
  await client.connect();
  return {
    url: database.url,
    name: database.name,
    client,
    drop: async () => {
      await client.end().catch(() => undefined);
      await database.drop();
    },
  };
}
