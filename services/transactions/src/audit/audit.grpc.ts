import { Injectable } from '@nestjs/common';
import { paymentsV1 } from '@tessera/contracts';
import { AppError } from '@tessera/errors';
import type { UnaryImplementation } from '@tessera/grpc';
import { AuditCheckpoints } from './audit-checkpoints';
import { AuditTrail, type AuditRecordView } from './audit-trail';
import { canonicalJson } from './canonical-json';

type AuditServiceImpl = UnaryImplementation<typeof paymentsV1.AuditServiceService>;

const DEFAULT_PAGE = 50;
const MAX_PAGE = 500;

/** gRPC face of the audit trail: verify the chain, page through records (page token = last seq). */
@Injectable()
export class AuditGrpc {
  constructor(
    private readonly audit: AuditTrail,
    private readonly checkpoints: AuditCheckpoints,
  ) {}

  implementation(): AuditServiceImpl {
    return {
      verifyAuditChain: async () => {
        const r = await this.audit.verify();
        // A chain valid in itself is then held against its newest signed checkpoint (a truncated tail, a re-hashed chain).
        const finding = r.valid ? await this.checkpoints.check() : undefined;
        if (finding)
          return {
            valid: false,
            recordsChecked: BigInt(r.recordsChecked),
            firstInvalidSeq: finding.seq,
            failureReason: finding.reason,
            headHash: '',
          };
        return {
          valid: r.valid,
          recordsChecked: BigInt(r.recordsChecked),
          firstInvalidSeq: r.firstInvalidSeq ?? 0n,
          failureReason: r.failureReason ?? '',
          headHash: r.valid ? r.headHash : '',
        };
      },
      listAuditRecords: async (req: paymentsV1.ListAuditRecordsRequest) => {
        const pageSize = Math.min(MAX_PAGE, req.page?.pageSize || DEFAULT_PAGE);
        const token = req.page?.pageToken ?? '';
        if (token !== '' && (!/^\d{1,19}$/.test(token) || BigInt(token) > 9_223_372_036_854_775_807n)) {
          throw new AppError({
            code: 'PAYMENTS.INVALID_PAGE_TOKEN',
            kind: 'INVALID_ARGUMENT',
            message: 'page_token is not one this service issued',
            fieldViolations: [{ field: 'page.page_token', description: 'malformed' }],
          });
        }
        const records = await this.audit.list(
          { entityType: req.entityType || undefined, entityId: req.entityId || undefined },
          pageSize + 1,
          token ? BigInt(token) : 0n,
        );
        const page = records.slice(0, pageSize);
        const next = records.length > pageSize ? (page.at(-1)?.seq.toString() ?? '') : '';
        return { records: page.map(toProto), page: { nextPageToken: next } };
      },
    };
  }
}

function toProto(r: AuditRecordView): paymentsV1.AuditRecord {
  return paymentsV1.AuditRecord.fromPartial({
    seq: r.seq,
    id: r.id,
    occurredAt: r.occurredAt,
    actor: r.actor,
    action: r.action,
    entityType: r.entityType,
    entityId: r.entityId,
    payloadJson: canonicalJson(r.payload),
    prevHash: r.prevHash,
    hash: r.hash,
  });
}
