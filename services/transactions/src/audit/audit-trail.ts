import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Prisma } from '../generated/prisma/client';
import { PrismaService } from '../platform/prisma.provider';
import { auditHash, GENESIS_HASH, type VerifyResult } from './audit-chain';
import { toChainRecord, verifyAuditChain } from './audit-chain.reader';
import { normalise } from './canonical-json';

export type { VerifyResult } from './audit-chain';

/** Advisory-lock key serialising appends to the chain ("AUDT" in ASCII); held until the caller's commit. */
export const AUDIT_CHAIN_LOCK_KEY = 0x41554454;

export interface AuditEntry {
  /** Verified principal subject, `service:<cn>` / a service name for automated decisions, or 'anonymous'. */
  actor: string;
  /** What happened, e.g. `account.opened`, `transfer.posted`, `compliance.decision`. */
  action: string;
  entityType: string;
  entityId: string;
  /** Why and the details. Never PII: this table is readable by auditors and is not encrypted. */
  payload: Record<string, unknown>;
}

import type { AuditRecordView } from './audit-chain.reader';
export type { AuditRecordView } from './audit-chain.reader';

/**
 * Append-only, hash-chained audit trail. Appends run inside the caller's transaction, so a record
 * exists exactly when the state change it describes committed.
 */
@Injectable()
export class AuditTrail {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Appends one record. Takes a transaction-scoped advisory lock so concurrent appenders chain one
   * after another (the lock is released at commit/rollback, so the next appender reads the committed head).
   */
  async append(tx: Prisma.TransactionClient, entry: AuditEntry): Promise<{ seq: bigint; hash: string }> {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK_KEY}::bigint)`;
    const head = await tx.auditRecord.findFirst({ orderBy: { seq: 'desc' }, select: { hash: true } });
    const prevHash = head?.hash ?? GENESIS_HASH;
    // Millisecond Date: timestamptz(6) stores it exactly, so the re-read value hashes the same.
    const record = {
      id: randomUUID(),
      occurredAt: new Date(),
      actor: entry.actor,
      action: entry.action,
      entityType: entry.entityType,
      entityId: entry.entityId,
      payload: normalise(entry.payload) as Prisma.InputJsonObject,
    };
    const hash = auditHash(prevHash, record);
    const row = await tx.auditRecord.create({ data: { ...record, prevHash, hash }, select: { seq: true } });
    return { seq: row.seq, hash };
  }

  /** Recomputes the whole chain from the first record (keyset batches, constant memory). */
  verify(): Promise<VerifyResult> {
    return verifyAuditChain(this.prisma.client);
  }

  /** Records oldest first, optionally for one entity, after `afterSeq` (keyset paging). */
  async list(filter: { entityType?: string; entityId?: string }, pageSize: number, afterSeq = 0n): Promise<AuditRecordView[]> {
    const rows = await this.prisma.client.auditRecord.findMany({
      where: {
        seq: { gt: afterSeq },
        ...(filter.entityType ? { entityType: filter.entityType } : {}),
        ...(filter.entityId ? { entityId: filter.entityId } : {}),
      },
      orderBy: { seq: 'asc' },
      take: pageSize,
    });
    return rows.map(toChainRecord);
  }
}
