import type { Client } from 'pg';
import type { PiiVault } from './pii-vault';

/** Where sealed PII lives: table, key column, and the three sealed columns. */
const SEALED_COLUMNS = [
  { table: 'account_holders', id: 'account_id', kek: 'kek_id', dek: 'wrapped_dek', data: 'ciphertext' },
  { table: 'transfers', id: 'id', kek: 'counterparty_kek_id', dek: 'counterparty_wrapped_dek', data: 'counterparty_ciphertext' },
] as const;

export interface RotationReport {
  rewrapped: Record<string, number>;
  activeKekId: string;
}

/**
 * Key rotation: re-wraps every DEK not under the active KEK (data ciphertext untouched), in batches of
 * short transactions, so it can run while the service serves traffic and be re-run after an interruption.
 * When it reports zero left, the old KEK can be removed from TRANSACTIONS_PII_KEYS.
 */
export async function rotatePiiKeys(db: Client, vault: PiiVault, batchSize = 500): Promise<RotationReport> {
  const rewrapped: Record<string, number> = {};
  for (const c of SEALED_COLUMNS) {
    rewrapped[c.table] = 0;
    for (;;) {
      await db.query('BEGIN');
      try {
        const { rows } = await db.query<{ id: string; kek: string; dek: Buffer; data: Buffer }>(
          `SELECT ${c.id} AS id, ${c.kek} AS kek, ${c.dek} AS dek, ${c.data} AS data FROM ${c.table}
            WHERE ${c.kek} IS NOT NULL AND ${c.kek} <> $1 LIMIT $2 FOR UPDATE SKIP LOCKED`,
          [vault.activeKekId, batchSize],
        );
        for (const row of rows) {
          const next = vault.rewrap({ kekId: row.kek, wrappedDek: row.dek, ciphertext: row.data });
          await db.query(`UPDATE ${c.table} SET ${c.kek} = $2, ${c.dek} = $3 WHERE ${c.id} = $1`, [
            row.id,
            next.kekId,
            Buffer.from(next.wrappedDek),
          ]);
        }
        await db.query('COMMIT');
        rewrapped[c.table] += rows.length;
        if (rows.length < batchSize) break;
      } catch (err) {
        await db.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    }
  }
  return { rewrapped, activeKekId: vault.activeKekId };
}
