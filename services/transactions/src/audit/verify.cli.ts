/**
 * Verifies the audit hash chain of the transactions database and prints the result as JSON.
 * Exit status: 0 valid, 1 tampered (first invalid seq printed), 2 could not run.
 *
 *   npx tsx services/transactions/src/audit/verify.cli.ts
 *   TRANSACTIONS_DATABASE_URL=postgresql://... npx tsx services/transactions/src/audit/verify.cli.ts
 */
import { createPrismaClient } from '@tessera/db';
import { loadTransactionsConfig } from '../config';
import { PrismaClient } from '../generated/prisma/client';
import { verifyAuditChain } from './audit-chain.reader';

async function main(): Promise<number> {
  const config = loadTransactionsConfig();
  const prisma = createPrismaClient(PrismaClient, config.TRANSACTIONS_DATABASE_URL, { poolMax: 1 });
  try {
    const result = await verifyAuditChain(prisma);
    process.stdout.write(`${JSON.stringify({ ...result, firstInvalidSeq: result.firstInvalidSeq?.toString() })}\n`);
    return result.valid ? 0 : 1;
  } finally {
    await prisma.$disconnect();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`audit verify failed to run: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
