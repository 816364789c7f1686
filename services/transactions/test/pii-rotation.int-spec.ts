/** PII key rotation against a throwaway Postgres: DEKs move to the new KEK, data stays readable, plaintext never stored. */
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { parsePiiKeys } from '../src/pii/pii-keyring';
import { PiiVault } from '../src/pii/pii-vault';
import { rotatePiiKeys } from '../src/pii/rotate-keys';
import { throwawayDb, type ThrowawayDb } from './support/throwaway-db';

jest.setTimeout(60_000);

const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');
const k3 = randomBytes(32).toString('base64');
let db: ThrowawayDb;

beforeAll(async () => {
  db = await throwawayDb('pii');
});
afterAll(async () => db?.drop());

async function insertHolders(vault: PiiVault, n: number): Promise<Map<string, object>> {
  const holders = new Map<string, object>();
  for (let i = 0; i < n; i++) {
    const id = randomUUID();
    const holder = { fullName: `Holder ${i} Ñúñez`, address: `${i} Calle Mayor, Madrid`, nationalId: `ES-${100000 + i}X`, country: 'ES' };
    await db.client.query(`INSERT INTO accounts (id, owner_id, currency, type) VALUES ($1, $2, 'EUR', 'ASSET')`, [id, `owner-${i}`]);
    const s = vault.seal(holder);
    await db.client.query('INSERT INTO account_holders (account_id, kek_id, wrapped_dek, ciphertext) VALUES ($1, $2, $3, $4)', [
      id,
      s.kekId,
      Buffer.from(s.wrappedDek),
      Buffer.from(s.ciphertext),
    ]);
    holders.set(id, holder);
  }
  return holders;
}

async function readAll(vault: PiiVault): Promise<Map<string, object>> {
  const { rows } = await db.client.query<{ account_id: string; kek_id: string; wrapped_dek: Buffer; ciphertext: Buffer }>(
    'SELECT * FROM account_holders',
  );
  return new Map(
    rows.map((r) => [r.account_id, vault.open<object>({ kekId: r.kek_id, wrappedDek: r.wrapped_dek, ciphertext: r.ciphertext })]),
  );
}

describe('rotatePiiKeys', () => {
  it('re-wraps every DEK under the active KEK so the old key can be retired', async () => {
    const holders = await insertHolders(new PiiVault(parsePiiKeys(`k1:${k1}`)), 25);
    const { rows: raw } = await db.client.query<{ bytes: Buffer }>(
      `SELECT convert_to(account_holders::text, 'UTF8') AS bytes FROM account_holders`,
    );
    for (const r of raw) expect(r.bytes.toString('utf8')).not.toMatch(/Madrid|Holder|ES-1/);

    const report = await rotatePiiKeys(db.client, new PiiVault(parsePiiKeys(`k2:${k2},k1:${k1}`)), 10);
    expect(report).toEqual({ activeKekId: 'k2', rewrapped: { account_holders: 25, transfers: 0 } });
    expect(await readAll(new PiiVault(parsePiiKeys(`k2:${k2}`)))).toEqual(holders);
    // Idempotent: nothing left to do.
    expect((await rotatePiiKeys(db.client, new PiiVault(parsePiiKeys(`k2:${k2},k1:${k1}`)))).rewrapped['account_holders']).toBe(0);
  });

  it('runs as the documented CLI', () => {
    const cli = path.resolve(__dirname, '../src/pii/rotate-keys.cli.ts');
    const out = spawnSync('npx', ['tsx', cli], {
      env: { ...process.env, TRANSACTIONS_DATABASE_URL: db.url, TRANSACTIONS_PII_KEYS: `k3:${k3},k2:${k2}`, LOG_LEVEL: 'fatal' },
      encoding: 'utf8',
    });
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual({ activeKekId: 'k3', rewrapped: { account_holders: 25, transfers: 0 } });
  });

  it('leaves data readable only with the new key after the CLI rotation', async () => {
    const data = await readAll(new PiiVault(parsePiiKeys(`k3:${k3}`)));
    expect(data.size).toBe(25);
  });
});
