import type { paymentsV1 } from '@tessera/contracts';
import { z } from 'zod';
import { emptyToNull, isoOrNull, pageQuery, pageView, toPageRequest } from '../http/common.dto';

export const listAuditRecordsQuery = z
  .object({
    entityType: z
      .string()
      .regex(/^[a-z][a-z0-9_.-]{0,63}$/, 'must be a lower-case entity kind such as transfer')
      .optional(),
    entityId: z.string().min(1).max(128).optional(),
    ...pageQuery,
  })
  .strict();
export type ListAuditRecordsQuery = z.infer<typeof listAuditRecordsQuery>;

export function toListAuditRecordsRequest(query: ListAuditRecordsQuery): paymentsV1.ListAuditRecordsRequest {
  return { page: toPageRequest(query), entityType: query.entityType ?? '', entityId: query.entityId ?? '' };
}

export const auditRecordView = z.object({
  seq: z.string(),
  id: z.string(),
  occurredAt: z.string().nullable(),
  actor: z.string(),
  action: z.string(),
  entityType: z.string(),
  entityId: z.string(),
  payload: z.unknown().meta({ description: 'The record payload (canonical JSON, no PII), parsed' }),
  prevHash: z.string(),
  hash: z.string(),
});
export type AuditRecordView = z.infer<typeof auditRecordView>;
export const auditRecordPageView = pageView(auditRecordView);

export function toAuditRecordView(record: paymentsV1.AuditRecord): AuditRecordView {
  return {
    seq: record.seq.toString(),
    id: record.id,
    occurredAt: isoOrNull(record.occurredAt),
    actor: record.actor,
    action: record.action,
    entityType: record.entityType,
    entityId: record.entityId,
    payload: parseOrRaw(record.payloadJson),
    prevHash: record.prevHash,
    hash: record.hash,
  };
}

/** The payload is shown as JSON; a payload that does not parse (only possible if tampered) is shown raw. */
function parseOrRaw(json: string): unknown {
  if (json === '') return null;
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return json;
  }
}

export const auditVerificationView = z.object({
  valid: z.boolean(),
  recordsChecked: z.string(),
  firstInvalidSeq: z.string().nullable().meta({ description: 'Sequence number of the first record that does not verify; null when valid' }),
  failureReason: z.string().nullable(),
  headHash: z.string().nullable(),
});
export type AuditVerificationView = z.infer<typeof auditVerificationView>;

export function toAuditVerificationView(res: paymentsV1.VerifyAuditChainResponse): AuditVerificationView {
  return {
    valid: res.valid,
    recordsChecked: res.recordsChecked.toString(),
    firstInvalidSeq: res.firstInvalidSeq === 0n ? null : res.firstInvalidSeq.toString(),
    failureReason: emptyToNull(res.failureReason),
    headHash: emptyToNull(res.headHash),
  };
}
