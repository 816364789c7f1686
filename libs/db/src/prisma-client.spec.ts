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
