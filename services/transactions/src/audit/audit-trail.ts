import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Prisma } from '../generated/prisma/client';
import { PrismaService } from '../platform/prisma.provider';
import { auditBody, type VerifyResult } from './audit-chain';
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

/** Audit records a deferring transaction has buffered, written by `flush` just before its commit. */
const deferred = new WeakMap<object, AuditEntry[]>();

/**
 * Append-only, hash-chained audit trail. Appends run inside the caller's transaction, so a record
 * exists exactly when the state change it describes committed.
 *
 * The chain is one sequence, so appends serialise on an advisory lock held until the appender commits. To keep
 * that critical section short, `audit_append` (a migration) takes the lock, reads the head and inserts every
 * record of the transaction in one round trip, and the hot paths `defer` their appends and `flush` them as
 * the last statement before COMMIT: the lock is held for one statement and the commit, not for the whole
 * transaction (issue #10).
 */
@Injectable()
export class AuditTrail {
  constructor(private readonly prisma: PrismaService) {}

  /** From now on, appends in `tx` are buffered until `flush(tx)`; call `flush` last, right before the commit. */
  defer(tx: Prisma.TransactionClient): void {
    deferred.set(tx, []);
  }

  /** Writes the records `tx` buffered since `defer`, in order, in one round trip; stops deferring. */
  async flush(tx: Prisma.TransactionClient): Promise<void> {
    const entries = deferred.get(tx);
    deferred.delete(tx);
    if (entries && entries.length > 0) await this.write(tx, entries);
  }

  /** Appends one record now; the chain lock is then held until `tx` ends. */
  async append(tx: Prisma.TransactionClient, entry: AuditEntry): Promise<{ seq: bigint; hash: string }> {
    const written = await this.write(tx, [entry]);
    const last = written[written.length - 1];
    if (!last) throw new Error('audit_append wrote nothing');
    return last;
  }

  /** Appends at the end of `tx` when it defers (see `defer`), now otherwise. */
  async record(tx: Prisma.TransactionClient, entry: AuditEntry): Promise<void> {
    const buffer = deferred.get(tx);
    if (buffer) buffer.push(entry);
    else await this.append(tx, entry);
  }

  private async write(tx: Prisma.TransactionClient, entries: AuditEntry[]): Promise<{ seq: bigint; hash: string }[]> {
    const records = entries.map((entry) => {
      // Millisecond Date: timestamptz(6) stores it exactly, so the re-read value hashes the same.
      const fields = {
        id: randomUUID(),
        occurredAt: new Date(),
        actor: entry.actor,
        action: entry.action,
        entityType: entry.entityType,
        entityId: entry.entityId,
        payload: normalise(entry.payload),
      };
      return { ...fields, occurredAt: fields.occurredAt.toISOString(), body: auditBody(fields) };
    });
    const rows = await tx.$queryRaw<{ seq: bigint; hash: string }[]>`SELECT seq, hash FROM audit_append(${AUDIT_CHAIN_LOCK_KEY}::bigint, ${JSON.stringify(records)}::jsonb)`;
    return rows.map((r) => ({ seq: BigInt(r.seq), hash: r.hash }));
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
