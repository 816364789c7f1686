import { databaseUnavailable } from '@tessera/errors';
import { clearFaults, setFault } from '@tessera/telemetry';
import { createDatabaseClients } from './prisma-client';

/** Stands in for a generated PrismaClient: keeps what it was built with (no connection is made). */
class FakeClient {
  constructor(readonly options: { adapter: unknown; errorFormat?: string }) {}
}

describe(createDatabaseClients, () => {
  it('builds the client with minimal errors on the pool it returns, sized by poolMax', async () => {
    const { prisma, pool } = createDatabaseClients(FakeClient, 'postgresql://u:p@127.0.0.1:1/db', { poolMax: 3 });
    try {
      expect(prisma.options.errorFormat).toBe('minimal');
      expect(pool.options.max).toBe(3);
      expect((prisma.options.adapter as { externalPool: unknown }).externalPool).toBe(pool);
    } finally {
      await pool.end();
    }
  });

  it('hands an idle connection error to onPoolError at once, before Prisma ever connects, instead of crashing', async () => {
    const seen: string[] = [];
    const { pool } = createDatabaseClients(FakeClient, 'postgresql://u:p@127.0.0.1:1/db', { onPoolError: (err) => seen.push(err.message) });
    try {
      expect(() => pool.emit('error', new Error('terminating connection due to administrator command'))).not.toThrow();
      expect(seen).toEqual(['terminating connection due to administrator command']);
    } finally {
      await pool.end();
    }
  });
});

describe('the db fault point (runtime fault toggles)', () => {
  afterEach(() => clearFaults());

  it('refuses connections like a stopped server when switched on: both the promise and the callback form', async () => {
    const { pool } = createDatabaseClients(FakeClient, 'postgresql://u:p@127.0.0.1:1/db');
    try {
      setFault('db', { errorRate: 1 }, {});
      await expect(pool.connect()).rejects.toThrow(/fault injected/);
      const err = await pool.query('SELECT 1').catch((e: Error) => e);
      expect((err as Error).message).toMatch(/fault injected/);
      expect(databaseUnavailable(err)).toMatchObject({ code: 'DB.UNAVAILABLE', kind: 'UNAVAILABLE' });
    } finally {
      await pool.end();
    }
  });

  it('delays a connection attempt, then makes it for real (here: refused by the closed port)', async () => {
    const { pool } = createDatabaseClients(FakeClient, 'postgresql://u:p@127.0.0.1:1/db', { connectionTimeoutMillis: 1000 });
    try {
      setFault('db', { delayMs: 80 }, {});
      const started = Date.now();
      const err = await pool.query('SELECT 1').catch((e: Error) => e);
      expect(Date.now() - started).toBeGreaterThanOrEqual(75);
      expect((err as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
      expect((err as Error).message).not.toMatch(/fault injected/);
    } finally {
      await pool.end();
    }
  });
});
