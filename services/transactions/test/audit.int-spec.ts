/** AuditTrail against a throwaway Postgres: the chain verifies, and a row edited in SQL is found. */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { AuditTrail } from '../src/audit/audit-trail';
import { transactionsConfigSchema } from '../src/config';
import { PrismaService } from '../src/platform/prisma.provider';
import { throwawayDb, type ThrowawayDb } from './support/throwaway-db';

jest.setTimeout(60_000);

let db: ThrowawayDb;
let prisma: PrismaService;
let audit: AuditTrail;

beforeAll(async () => {
  db = await throwawayDb('audit');
  prisma = new PrismaService(transactionsConfigSchema.parse({ TRANSACTIONS_DATABASE_URL: db.url, TRANSACTIONS_DB_POOL_MAX: '8' }));
  audit = new AuditTrail(prisma);
});

afterAll(async () => {
  await prisma?.onApplicationShutdown();
  await db?.drop();
});

function entry(i: number) {
  return {
    actor: `user-${i % 3}`,
    action: 'transfer.posted',
    entityType: 'transfer',
    entityId: randomUUID(),
    payload: { amountMinor: BigInt(i) * 10n ** 15n, reasons: ['ok'], nested: { z: 1, a: [true, null] } },
  };
}

/** The operator's CLI, as documented: `npx tsx services/transactions/src/audit/verify.cli.ts`. */
function verifyCli(): { status: number | null; result: Record<string, unknown> } {
  const cli = path.resolve(__dirname, '../src/audit/verify.cli.ts');
  const out = spawnSync('npx', ['tsx', cli], {
    env: { ...process.env, TRANSACTIONS_DATABASE_URL: db.url, LOG_LEVEL: 'fatal' },
    encoding: 'utf8',
  });
  return { status: out.status, result: JSON.parse(out.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown> };
}

async function tamper(sql: string, values: unknown[]): Promise<void> {
  // The append-only trigger refuses UPDATEs; the owner can switch it off, which is exactly the attack.
  await db.client.query('ALTER TABLE audit_records DISABLE TRIGGER USER');
  try {
    await db.client.query(sql, values);
  } finally {
    await db.client.query('ALTER TABLE audit_records ENABLE TRIGGER USER');
  }
}

describe(AuditTrail, () => {
  describe('append', () => {
    it('chains concurrent appends from many transactions into one unforked chain', async () => {
      await Promise.all(Array.from({ length: 40 }, (_, i) => prisma.client.$transaction((tx) => audit.append(tx, entry(i)))));
      const { rows } = await db.client.query<{ n: string; heads: string }>(
        `SELECT count(*) AS n, count(DISTINCT prev_hash) AS heads FROM audit_records`,
      );
      expect(rows[0]).toEqual({ n: '40', heads: '40' });
    });

    it('leaves no record when the caller rolls back', async () => {
      const before = await audit.verify();
      await expect(
        prisma.client.$transaction(async (tx) => {
          await audit.append(tx, entry(99));
          throw new Error('business rule failed');
        }),
      ).rejects.toThrow('business rule failed');
      expect(await audit.verify()).toEqual(before);
    });
  });

  describe('verify', () => {
    it('proves an intact chain and reports its head', async () => {
      const last = await prisma.client.$transaction((tx) => audit.append(tx, entry(100)));
      const result = await audit.verify();
      expect(result).toEqual({ valid: true, recordsChecked: 41, headHash: last.hash });
      expect(verifyCli()).toEqual({ status: 0, result: { valid: true, recordsChecked: 41, headHash: last.hash } });
    });

    it('chains staged records at COMMIT in staging order, one contiguous run per transaction, across concurrent commits', async () => {
      // The hot paths stage their records (defer/flush into audit_pending); the deferred trigger chains all of a
      // transaction's staged records in one pass at its COMMIT (migration 20261203090000).
      const { rows: before } = await db.client.query<{ n: string }>('SELECT count(*) AS n FROM audit_records');
      const runs = Array.from({ length: 8 }, (_, t) =>
        Array.from({ length: 30 }, (_, i) => ({ ...entry(i), entityId: `tx-${t}-${String(i).padStart(2, '0')}` })),
      );
      await Promise.all(
        runs.map((records) =>
          prisma.client.$transaction(async (tx) => {
            audit.defer(tx);
            for (const r of records) await audit.record(tx, r);
            await audit.flush(tx);
          }),
        ),
      );
      const { rows } = await db.client.query<{ entity_id: string }>('SELECT entity_id FROM audit_records ORDER BY seq OFFSET $1', [
        Number(before[0]!.n),
      ]);
      expect(rows).toHaveLength(240);
      // Each transaction's 30 records are adjacent and in the order they were staged.
      const order = rows.map((r) => r.entity_id);
      for (let k = 0; k < 240; k += 30) {
        const t = order[k]!.split('-')[1];
        expect(order.slice(k, k + 30)).toEqual(Array.from({ length: 30 }, (_, i) => `tx-${t}-${String(i).padStart(2, '0')}`));
      }
      expect((await db.client.query('SELECT count(*)::int AS n FROM audit_pending')).rows[0]).toEqual({ n: 0 });
      expect(await audit.verify()).toMatchObject({ valid: true, recordsChecked: Number(before[0]!.n) + 240 });
    });

    it('names the record each one chains from (prev_seq), and refuses a second record after the same one (a fork)', async () => {
      // Both ways in (audit_append and the commit-time chaining of staged records) have written by now.
      const { rows: links } = await db.client.query<{ n: number; broken: number }>(
        'SELECT count(*)::int AS n, count(*) FILTER (WHERE prev_seq IS DISTINCT FROM before)::int AS broken FROM (SELECT prev_seq, lag(seq, 1, 0::bigint) OVER (ORDER BY seq) AS before FROM audit_records) r',
      );
      expect(links[0]!.n).toBeGreaterThan(280);
      expect(links[0]!.broken).toBe(0);
      // The fork guard (migration 20261204113627, replacing the unique prev_hash index): a record that chains from one
      // that already has a successor is refused, whatever its hashes.
      const { rows: head } = await db.client.query<{ seq: string; prev_seq: string; prev_hash: string }>(
        'SELECT seq::text, prev_seq::text, prev_hash FROM audit_records ORDER BY seq DESC LIMIT 1',
      );
      const fork = db.client.query(
        `INSERT INTO audit_records (id, actor, action, entity_type, entity_id, payload, prev_hash, hash, prev_seq) VALUES ($1, 'mallory', 'transfer.posted', 'transfer', 'x', '{}', $2, repeat('f', 64), $3)`,
        [randomUUID(), head[0]!.prev_hash, head[0]!.prev_seq],
      );
      await expect(fork).rejects.toMatchObject({ code: '23505', constraint: 'audit_records_prev_seq_key' });
      // Chaining from an earlier or a later (unwritten) record is refused too: prev_seq < seq.
      await expect(
        db.client.query(
          `INSERT INTO audit_records (id, actor, action, entity_type, entity_id, payload, prev_hash, hash, prev_seq) VALUES ($1, 'mallory', 'x', 'x', 'x', '{}', repeat('0', 64), repeat('e', 64), $2)`,
          [randomUUID(), String(BigInt(head[0]!.seq) + 1000n)],
        ),
      ).rejects.toMatchObject({ code: '23514', constraint: 'audit_records_prev_seq_chk' });
      expect(await audit.verify()).toMatchObject({ valid: true });
    });

    it('reports a payload edited directly in SQL as the first invalid seq, and recovers when reverted', async () => {
      const { rows } = await db.client.query<{ seq: string; payload: unknown }>(
        'SELECT seq, payload FROM audit_records ORDER BY seq OFFSET 17 LIMIT 1',
      );
      const victim = rows[0]!;
      await tamper(`UPDATE audit_records SET payload = jsonb_set(payload, '{amountMinor}', '"1"') WHERE seq = $1`, [victim.seq]);
      expect(await audit.verify()).toMatchObject({ valid: false, firstInvalidSeq: BigInt(victim.seq), failureReason: 'hash mismatch' });
      expect(verifyCli()).toMatchObject({ status: 1, result: { valid: false, firstInvalidSeq: victim.seq } });

      await tamper('UPDATE audit_records SET payload = $2 WHERE seq = $1', [victim.seq, JSON.stringify(victim.payload)]);
      expect((await audit.verify()).valid).toBe(true);
    });

    it('refuses TRUNCATE of the audit chain and of the postings, as it refuses UPDATE and DELETE (issue #13)', async () => {
      const before = await db.client.query<{ n: string }>('SELECT count(*) AS n FROM audit_records');
      for (const table of ['audit_records', 'postings']) {
        await expect(db.client.query(`TRUNCATE ${table} CASCADE`)).rejects.toMatchObject({
          code: '42501',
          message: `${table} is append-only (TRUNCATE refused)`,
        });
      }
      expect((await db.client.query<{ n: string }>('SELECT count(*) AS n FROM audit_records')).rows[0]?.n).toBe(before.rows[0]?.n);
    });

    it('reports a deleted row at the record that followed it', async () => {
      const { rows } = await db.client.query<{ seq: string }>('SELECT seq FROM audit_records ORDER BY seq OFFSET 5 LIMIT 2');
      await tamper('DELETE FROM audit_records WHERE seq = $1', [rows[0]!.seq]);
      expect(await audit.verify()).toMatchObject({
        valid: false,
        firstInvalidSeq: BigInt(rows[1]!.seq),
        failureReason: 'prev_hash does not match previous record',
      });
    });
  });
});
