import { v7 as uuidv7 } from 'uuid';
import { Injectable } from '@nestjs/common';
import type { Prisma } from '../generated/prisma/client';
import { PrismaService } from '../platform/prisma.provider';
import { writeSetOf } from '../ledger/write-set';
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
 * The chain is one sequence, so appends serialise on an advisory lock held until the appender commits. `append`
 * (`audit_append`, one round trip: lock, fresh head read, hash, insert) holds it from that statement to the commit.
 * The hot paths `defer` their records and `flush` stages them in `audit_pending`; a deferred trigger chains them at
 * COMMIT, so the lock is never held across a round trip to this process (issue #10: holding it across one made the
 * payments path one-transfer-at-a-time, ~16/s under load).
 *
 * Each record also names the seq of the record it chains from (`prev_seq`, UNIQUE): the database refuses a fork (two
 * records after the same one) even if a writer skipped the lock. That guard used to be UNIQUE indexes on `prev_hash`
 * and `hash`, random keys that cost ~39% of the WAL's full-page images under load (migration 20261204113627).
 */
@Injectable()
export class AuditTrail {
  constructor(private readonly prisma: PrismaService) {}

  /** From now on, appends in `tx` are buffered until `flush(tx)`; call `flush` last, right before the commit. */
  defer(tx: Prisma.TransactionClient): void {
    deferred.set(tx, []);
  }

  /**
   * Stages the records `tx` buffered since `defer`, in order, in one round trip and without the chain lock; a
   * deferred trigger chains them at COMMIT (migration 20261203060000_audit_chain_at_commit), so the lock is held
   * from inside the commit to its end, never across a round trip to this process. Stops deferring.
   */
  async flush(tx: Prisma.TransactionClient): Promise<void> {
    const entries = deferred.get(tx);
    deferred.delete(tx);
    if (!entries || entries.length === 0) return;
    const records = entries.map(recordOf);
    const set = writeSetOf(tx);
    if (set) {
      set.audit.push(...records);
      return;
    }
    await tx.$executeRaw`INSERT INTO audit_pending (id, occurred_at, actor, action, entity_type, entity_id, payload, body)
        SELECT r.id, r."occurredAt", r.actor, r.action, r."entityType", r."entityId", r.payload, r.body
        FROM jsonb_to_recordset(${JSON.stringify(records)}::jsonb)
          AS r(id uuid, "occurredAt" timestamptz, actor text, action text, "entityType" text, "entityId" text, payload jsonb, body text, ord int)
        ORDER BY r.ord`;
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
    await this.recordMany(tx, [entry]);
  }

  /** `record` for several entries, in order: buffered when `tx` defers, else appended in one round trip. */
  async recordMany(tx: Prisma.TransactionClient, entries: AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const buffer = deferred.get(tx);
    if (buffer) buffer.push(...entries);
    else await this.write(tx, entries);
  }

  private async write(tx: Prisma.TransactionClient, entries: AuditEntry[]): Promise<{ seq: bigint; hash: string }[]> {
    const records = entries.map(recordOf);
    const rows = await tx.$queryRaw<
      { seq: bigint; hash: string }[]
    >`SELECT seq, hash FROM audit_append(${AUDIT_CHAIN_LOCK_KEY}::bigint, ${JSON.stringify(records)}::jsonb)`;
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

/** One record as `audit_append` / `audit_pending` take it: the stored fields plus the canonical body that is hashed. */
function recordOf(entry: AuditEntry, ord: number) {
  // Millisecond Date: timestamptz(6) stores it exactly, so the re-read value hashes the same.
  const fields = {
    id: uuidv7(), // time-ordered: see docs/ids.md
    occurredAt: new Date(),
    actor: entry.actor,
    action: entry.action,
    entityType: entry.entityType,
    entityId: entry.entityId,
    payload: normalise(entry.payload),
  };
  return { ...fields, occurredAt: fields.occurredAt.toISOString(), body: auditBody(fields), ord };
}
