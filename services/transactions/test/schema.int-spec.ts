import { createHash, randomUUID } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import {
  createPrismaClient,
  DbError,
  diffDatabaseToSchema,
  diffMigrationsToSchema,
  dropDatabase,
  ensureDatabase,
  migrate,
  migrationStatus,
  withSerializableRetry,
} from '@tessera/db';
// The @tessera/db runner and the transactions schema's invariants, tested together on a real Postgres.
import { PrismaClient } from '../src/generated/prisma/client';
import { flushWriteSet, openWriteSet } from '../src/ledger/write-set';

jest.setTimeout(60_000);

const ADMIN_URL = process.env['TESSERA_PG_ADMIN_URL'] ?? 'postgresql://tessera:tessera@127.0.0.1:55432/postgres';
const PRISMA_DIR = path.resolve(__dirname, '../prisma');
const MIGRATIONS_DIR = path.join(PRISMA_DIR, 'migrations');
const SCHEMA_PATH = path.join(PRISMA_DIR, 'schema.prisma');
const MIGRATION_NAMES = readdirSync(MIGRATIONS_DIR, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

function urlFor(database: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

async function sql<T extends object = Record<string, unknown>>(databaseUrl: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

const created: string[] = [];
async function freshDatabase(): Promise<string> {
  const name = `tessera_dbtest_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const url = urlFor(name);
  await ensureDatabase(url);
  created.push(name);
  return url;
}

afterAll(async () => {
  for (const name of created) await dropDatabase(ADMIN_URL, name);
});

describe('migrate', () => {
  let url: string;
  beforeAll(async () => {
    url = await freshDatabase();
  });

  it('applies every migration to an empty database', async () => {
    const progress: string[] = [];
    await expect(migrate(url, MIGRATIONS_DIR, (m) => progress.push(m))).resolves.toEqual(MIGRATION_NAMES);
    expect(progress).toContain(`applied ${MIGRATION_NAMES[0]}`);
  });

  it('is a no-op when re-applied', async () => {
    await expect(migrate(url, MIGRATIONS_DIR)).resolves.toEqual([]);
    const status = await migrationStatus(url, MIGRATIONS_DIR);
    expect(status).toMatchObject({ upToDate: true, pending: [], failed: [], edited: [], hasMigrationsTable: true });
  });

  it('records _prisma_migrations rows exactly as Prisma does', async () => {
    const columns = await sql<{ column_name: string; data_type: string }>(
      url,
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    expect(columns.map((c) => `${c.column_name}:${c.data_type}`)).toEqual([
      'id:character varying',
      'checksum:character varying',
      'finished_at:timestamp with time zone',
      'migration_name:character varying',
      'logs:text',
      'rolled_back_at:timestamp with time zone',
      'started_at:timestamp with time zone',
      'applied_steps_count:integer',
    ]);
    const rows = await sql<Record<string, unknown>>(url, 'SELECT * FROM _prisma_migrations ORDER BY migration_name');
    expect(rows.map((r) => r['migration_name'])).toEqual(MIGRATION_NAMES);
    for (const row of rows) {
      const file = readFileSync(path.join(MIGRATIONS_DIR, String(row['migration_name']), 'migration.sql'));
      expect(row['checksum']).toBe(createHash('sha256').update(file).digest('hex'));
      expect(row['id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(row['finished_at']).toBeInstanceOf(Date);
      expect(row['rolled_back_at']).toBeNull();
      expect(row['logs']).toBeNull();
      expect(row['applied_steps_count']).toBe(1);
    }
  });

  it('leaves no drift: the migrated database and the migrations folder both equal schema.prisma', async () => {
    await expect(diffDatabaseToSchema(url, SCHEMA_PATH)).resolves.toBe('');
    await expect(diffMigrationsToSchema(url, MIGRATIONS_DIR, SCHEMA_PATH)).resolves.toBe('');
  });

  it('reports drift when the database differs from the schema', async () => {
    const drifted = await freshDatabase();
    await migrate(drifted, MIGRATIONS_DIR);
    await sql(drifted, 'ALTER TABLE accounts ADD COLUMN nickname text');
    await expect(diffDatabaseToSchema(drifted, SCHEMA_PATH)).resolves.toMatch(/DROP COLUMN "nickname"/);
  });

  it('applies a failing migration atomically and then refuses to continue', async () => {
    const target = await freshDatabase();
    const dir = mkdtempSync(path.join(tmpdir(), 'tessera-migrations-'));
    try {
      cpSync(MIGRATIONS_DIR, dir, { recursive: true });
      mkdirSync(path.join(dir, '99990101000000_broken'));
      writeFileSync(path.join(dir, '99990101000000_broken', 'migration.sql'), 'CREATE TABLE half_done (id int);\nSELECT 1/0;\n');
      const err = await migrate(target, dir).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DbError);
      expect((err as DbError).code).toBe('DB.MIGRATION_FAILED');
      expect((err as DbError).message).toMatch(/division by zero/);
      const leftovers = await sql(target, `SELECT 1 FROM information_schema.tables WHERE table_name = 'half_done'`);
      expect(leftovers).toHaveLength(0);
      await expect(migrationStatus(target, dir)).resolves.toMatchObject({ upToDate: false, failed: ['99990101000000_broken'] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('transactions schema through Prisma + adapter-pg', () => {
  let url: string;
  let prisma: InstanceType<typeof PrismaClient>;
  beforeAll(async () => {
    url = await freshDatabase();
    await migrate(url, MIGRATIONS_DIR);
    prisma = createPrismaClient(PrismaClient, url, { poolMax: 3 });
  });
  afterAll(async () => {
    await prisma?.$disconnect();
  });

  it('runs every transaction in READ COMMITTED even when the database defaults to SERIALIZABLE', async () => {
    // The ledger relies on READ COMMITTED's per-statement snapshots and no longer pays a SET per transaction for it.
    const admin = new Client({ connectionString: url });
    await admin.connect();
    await admin.query(`ALTER DATABASE "${new URL(url).pathname.slice(1)}" SET default_transaction_isolation = 'serializable'`);
    await admin.end();
    const pinned = createPrismaClient(PrismaClient, url, { poolMax: 1 });
    const plain = new Client({ connectionString: url });
    await plain.connect();
    try {
      const inTx = await pinned.$transaction((tx) => tx.$queryRaw<{ transaction_isolation: string }[]>`SHOW transaction_isolation`);
      expect(inTx[0]?.transaction_isolation).toBe('read committed');
      expect((await plain.query('SHOW transaction_isolation')).rows[0]?.transaction_isolation).toBe('serializable');
    } finally {
      await plain.end();
      await pinned.$disconnect();
      const reset = new Client({ connectionString: url });
      await reset.connect();
      await reset.query(`ALTER DATABASE "${new URL(url).pathname.slice(1)}" RESET default_transaction_isolation`);
      await reset.end();
    }
  });

  it('writes and reads an Account with bigint amounts beyond 2^53', async () => {
    const big = 2n ** 62n + 7n;
    const created = await prisma.account.create({
      data: { ownerId: 'cust-1', currency: 'EUR', type: 'ASSET', overdraftLimitMinor: big, balanceMinor: 0n },
    });
    const read = await prisma.account.findUniqueOrThrow({ where: { id: created.id } });
    expect(read.overdraftLimitMinor).toBe(big);
    expect(read).toMatchObject({ currency: 'EUR', type: 'ASSET', status: 'ACTIVE', version: 0n });
  });

  it('enforces the ledger invariants in the database', async () => {
    const [a, b] = await Promise.all(
      ['x', 'y'].map((o) => prisma.account.create({ data: { ownerId: o, currency: 'EUR', type: 'ASSET', balanceMinor: 100n } })),
    );
    // Balance below -overdraft_limit is refused.
    await expect(prisma.account.update({ where: { id: a!.id }, data: { balanceMinor: -1n } })).rejects.toThrow(
      /accounts_(balance|available)_within_overdraft_chk/,
    );
    // Unbalanced postings fail at commit (deferred trigger), balanced ones commit.
    const transfer = (amount: bigint) =>
      prisma.transfer.create({
        data: {
          sourceAccountId: a!.id,
          destinationAccountId: b!.id,
          amountMinor: amount,
          currency: 'EUR',
          status: 'POSTED',
          postedAt: new Date(),
        },
      });
    const unbalanced = prisma.$transaction(async (tx) => {
      const t = await tx.transfer.create({
        data: {
          sourceAccountId: a!.id,
          destinationAccountId: b!.id,
          amountMinor: 5n,
          currency: 'EUR',
          status: 'POSTED',
          postedAt: new Date(),
        },
      });
      await tx.posting.create({ data: { transferId: t.id, accountId: a!.id, currency: 'EUR', direction: 'DEBIT', amountMinor: 5n } });
    });
    await expect(unbalanced).rejects.toThrow(/do not balance/);
    const t = await transfer(5n);
    await prisma.posting.createMany({
      data: [
        { transferId: t.id, accountId: a!.id, currency: 'EUR', direction: 'DEBIT', amountMinor: 5n },
        { transferId: t.id, accountId: b!.id, currency: 'EUR', direction: 'CREDIT', amountMinor: 5n },
      ],
    });
    // A posting cannot be in another currency than its account (composite FK), nor be edited afterwards.
    await expect(
      prisma.$transaction([
        prisma.posting.create({ data: { transferId: t.id, accountId: a!.id, currency: 'USD', direction: 'DEBIT', amountMinor: 1n } }),
        prisma.posting.create({ data: { transferId: t.id, accountId: b!.id, currency: 'USD', direction: 'CREDIT', amountMinor: 1n } }),
      ]),
    ).rejects.toThrow();
    await expect(sql(url, 'UPDATE postings SET amount_minor = 6 WHERE transfer_id = $1', [t.id])).rejects.toThrow(/append-only/);
    await expect(transfer(0n)).rejects.toThrow(/transfers_amount_positive_chk/);
  });

  it('keeps every database check when a transfer is written as one statement (WriteSet)', async () => {
    const [a, b, c] = await Promise.all(
      ['x', 'y', 'z'].map((o) =>
        prisma.account.create({ data: { ownerId: o, currency: 'EUR', type: 'ASSET', overdraftLimitMinor: 100n } }),
      ),
    );
    const write = (credit: string, debitAmount: bigint) =>
      prisma.$transaction(async (tx) => {
        const set = openWriteSet(tx);
        const id = randomUUID();
        const at = new Date().toISOString();
        set.transfers.push({
          id,
          kind: 'DIRECT',
          sourceAccountId: a!.id,
          destinationAccountId: b!.id,
          amountMinor: '5',
          currency: 'EUR',
          status: 'POSTED',
          rejectionCode: null,
          description: '',
          reference: null,
          labels: {},
          reversesTransferId: null,
          holdId: null,
          batchId: null,
          screeningId: null,
          counterpartyKekId: null,
          counterpartyWrappedDek: null,
          counterpartyCiphertext: null,
          traceId: null,
          postedAt: at,
          createdAt: at,
        });
        set.postings.push(
          { transferId: id, accountId: a!.id, currency: 'EUR', direction: 'DEBIT', amountMinor: debitAmount.toString() },
          { transferId: id, accountId: credit, currency: 'EUR', direction: 'CREDIT', amountMinor: '5' },
        );
        set.deltas.push({ id: a!.id, balance: '-5', held: '0', n: '1' }, { id: credit, balance: '5', held: '0', n: '1' });
        await flushWriteSet(tx);
        return id;
      });
    // The postings' BEFORE trigger sees the transfer inserted by the same statement: a leg on another account is refused.
    await expect(write(c!.id, 5n)).rejects.toThrow(/posting does not match transfer/);
    // The deferred zero-sum check still runs at COMMIT.
    await expect(write(b!.id, 4n)).rejects.toThrow(/do not balance/);
    const id = await write(b!.id, 5n);
    const balances = await prisma.account.findMany({
      where: { id: { in: [a!.id, b!.id, c!.id] } },
      select: { id: true, balanceMinor: true, version: true },
    });
    expect(Object.fromEntries(balances.map((r) => [r.id, [r.balanceMinor, r.version]]))).toEqual({
      [a!.id]: [-5n, 1n],
      [b!.id]: [5n, 1n],
      [c!.id]: [0n, 0n],
    });
    expect(await prisma.posting.count({ where: { transferId: id } })).toBe(2);
    // A part that matches nothing (an idempotency key that was never claimed) rolls the whole statement back.
    const missingKey = prisma.$transaction(async (tx) => {
      const set = openWriteSet(tx);
      set.idempotency.push({ scope: 'test', key: 'never-claimed', response: '', transferId: null, resourceId: null, refusal: null });
      set.deltas.push({ id: a!.id, balance: '-1', held: '0', n: '1' });
      await flushWriteSet(tx);
    });
    await expect(missingKey).rejects.toThrow(/keys wrote 0 rows, expected 1/);
    expect((await prisma.account.findUniqueOrThrow({ where: { id: a!.id } })).balanceMinor).toBe(-5n);
  });

  it('withSerializableRetry re-runs a transaction that lost a real serialization conflict', async () => {
    const [a, b] = await Promise.all(
      ['p', 'q'].map((o) =>
        prisma.account.create({ data: { ownerId: o, currency: 'EUR', type: 'ASSET', balanceMinor: 50n, overdraftLimitMinor: 100n } }),
      ),
    );
    // Write skew: each reads the joint balance (100), then takes 60 from a different account. Under READ COMMITTED both
    // would commit (joint -20); SERIALIZABLE aborts one, whose retry sees 40 left and declines.
    let arrived = 0;
    let release!: () => void;
    const bothRead = new Promise<void>((resolve) => (release = resolve));
    const retries: string[] = [];
    const debit = (id: string) =>
      withSerializableRetry(
        (attempt) =>
          prisma.$transaction(
            async (tx) => {
              const rows = await tx.account.findMany({ where: { id: { in: [a!.id, b!.id] } } });
              const total = rows.reduce((sum, r) => sum + r.balanceMinor, 0n);
              if (attempt === 1) {
                if (++arrived === 2) release();
                await bothRead;
              }
              if (total < 60n) return 'declined';
              await tx.account.update({ where: { id }, data: { balanceMinor: { decrement: 60n }, version: { increment: 1 } } });
              return 'debited';
            },
            { isolationLevel: 'Serializable' },
          ),
        { baseDelayMs: 5, onRetry: ({ sqlState }) => retries.push(sqlState) },
      );
    const outcomes = await Promise.all([debit(a!.id), debit(b!.id)]);
    expect(retries).toEqual(['40001']);
    expect(outcomes.sort()).toEqual(['debited', 'declined']);
  });
});
