/**
 * Re-wraps all sealed PII under the active KEK (the first of TRANSACTIONS_PII_KEYS).
 * Rotation: put the new key first, keep the old one after it, deploy, run this, then drop the old key.
 *
 *   TRANSACTIONS_PII_KEYS=k2026:<new>,k2025:<old> npx tsx services/transactions/src/pii/rotate-keys.cli.ts
 */
import { Client } from 'pg';
import { loadTransactionsConfig } from '../config';
import { loadPiiKeyring } from './pii-keyring';
import { PiiVault } from './pii-vault';
import { rotatePiiKeys } from './rotate-keys';

async function main(): Promise<void> {
  const config = loadTransactionsConfig();
  const vault = new PiiVault(loadPiiKeyring());
  const db = new Client({ connectionString: config.TRANSACTIONS_DATABASE_URL, application_name: 'transactions-pii-rotate' });
  await db.connect();
  try {
    process.stdout.write(`${JSON.stringify(await rotatePiiKeys(db, vault))}\n`);
  } finally {
    await db.end();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`key rotation failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
