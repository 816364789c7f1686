import type { PrismaClient } from '../generated/prisma/client';
import { ChainVerifier, type ChainRecord, type VerifyResult } from './audit-chain';

const VERIFY_BATCH = 1000;

export interface AuditRecordView extends ChainRecord {
  payload: Record<string, unknown>;
}

/**
 * Reads the chain in seq order (keyset batches, constant memory) and verifies it. Free of Nest so the
 * operator CLI can run it with plain tsx.
 */
export async function verifyAuditChain(client: Pick<PrismaClient, 'auditRecord'>): Promise<VerifyResult> {
  const verifier = new ChainVerifier();
  let after = 0n;
  for (;;) {
    const rows = await client.auditRecord.findMany({ where: { seq: { gt: after } }, orderBy: { seq: 'asc' }, take: VERIFY_BATCH });
    for (const row of rows) {
      if (!verifier.push(toChainRecord(row))) return verifier.result();
    }
    const last = rows.at(-1);
    if (!last || rows.length < VERIFY_BATCH) return verifier.result();
    after = last.seq;
  }
}

export function toChainRecord(row: {
  seq: bigint;
  id: string;
  occurredAt: Date;
  actor: string;
  action: string;
  entityType: string;
  entityId: string;
  payload: unknown;
  prevHash: string;
  hash: string;
}): AuditRecordView {
  return {
    seq: row.seq,
    id: row.id,
    occurredAt: row.occurredAt,
    actor: row.actor,
    action: row.action,
    entityType: row.entityType,
    entityId: row.entityId,
    payload: (row.payload ?? {}) as Record<string, unknown>,
    prevHash: row.prevHash,
    hash: row.hash,
  };
}
