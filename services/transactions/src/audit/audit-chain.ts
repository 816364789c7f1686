import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json';

/** prev_hash of the first record. */
export const GENESIS_HASH = '0'.repeat(64);

/** The hashed part of an audit record (seq is left out: sequence gaps from rolled-back inserts are harmless). */
export interface AuditFields {
  id: string;
  occurredAt: Date;
  actor: string;
  action: string;
  entityType: string;
  entityId: string;
  payload: unknown;
}

/** sha256(prev_hash || canonical JSON of the record), hex. The database's `audit_append` computes the same. */
export function auditHash(prevHash: string, record: AuditFields): string {
  return createHash('sha256').update(prevHash).update(auditBody(record)).digest('hex');
}

/** The hashed text of a record: its canonical JSON without seq and hashes. */
export function auditBody(record: AuditFields): string {
  return canonicalJson({
    id: record.id,
    occurredAt: record.occurredAt.toISOString(),
    actor: record.actor,
    action: record.action,
    entityType: record.entityType,
    entityId: record.entityId,
    payload: record.payload,
  });
}

export interface ChainRecord extends AuditFields {
  seq: bigint;
  prevHash: string;
  hash: string;
}

export interface VerifyResult {
  valid: boolean;
  recordsChecked: number;
  /** First record that does not verify; undefined when valid. */
  firstInvalidSeq?: bigint;
  failureReason?: string;
  /** Hash of the last record checked (chain head), GENESIS_HASH for an empty chain. */
  headHash: string;
}

/**
 * Incremental verifier: feed records in seq order. Stops at the first failure, which is what an
 * auditor needs (everything after a broken link is unproven anyway).
 */
export class ChainVerifier {
  private expectedPrev = GENESIS_HASH;
  private checked = 0;
  private failure?: { seq: bigint; reason: string };

  /** Returns false once a record failed; further records are ignored. */
  push(record: ChainRecord): boolean {
    if (this.failure) return false;
    this.checked++;
    if (record.prevHash !== this.expectedPrev) {
      this.failure = { seq: record.seq, reason: 'prev_hash does not match previous record' };
      return false;
    }
    if (auditHash(record.prevHash, record) !== record.hash) {
      this.failure = { seq: record.seq, reason: 'hash mismatch' };
      return false;
    }
    this.expectedPrev = record.hash;
    return true;
  }

  result(): VerifyResult {
    if (this.failure) {
      return {
        valid: false,
        recordsChecked: this.checked,
        firstInvalidSeq: this.failure.seq,
        failureReason: this.failure.reason,
        headHash: this.expectedPrev,
      };
    }
    return { valid: true, recordsChecked: this.checked, headHash: this.expectedPrev };
  }
}
