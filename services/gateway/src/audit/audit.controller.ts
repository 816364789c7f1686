import type { Metadata } from '@grpc/grpc-js';
import { Controller, Get, Inject, Query } from '@nestjs/common';
import { paymentsV1 } from '@tessera/contracts';
import { unaryCall } from '@tessera/grpc';
import { RequireScopes } from '../auth/auth.decorators';
import { type GatewayConfig, GATEWAY_CONFIG } from '../config';
import { nextPageTokenOf } from '../http/common.dto';
import { CallMetadata } from '../http/request-context';
import { ZodPipe } from '../http/zod-body.pipe';
import { AUDIT_CLIENT } from '../peers/peers.module';
import {
  type AuditRecordView,
  type AuditVerificationView,
  listAuditRecordsQuery,
  type ListAuditRecordsQuery,
  toAuditRecordView,
  toAuditVerificationView,
  toListAuditRecordsRequest,
} from './audit.dto';

/** The transactions service's hash-chained audit trail (`tessera.payments.v1.AuditService`). */
@RequireScopes('audit:read')
@Controller('v1/audit')
export class AuditController {
  constructor(
    @Inject(AUDIT_CLIENT) private readonly audit: paymentsV1.AuditServiceClient,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /** 200 with `valid: false` and the first bad record when the chain is broken: a finding, not a request error. */
  @Get('verify')
  async verify(@CallMetadata() metadata: Metadata): Promise<AuditVerificationView> {
    const res = await unaryCall(this.audit, 'verifyAuditChain', {}, { metadata, deadlineMs: this.config.GATEWAY_AUDIT_VERIFY_DEADLINE_MS });
    return toAuditVerificationView(res);
  }

  @Get('records')
  async records(
    @Query(new ZodPipe(listAuditRecordsQuery, 'HTTP.INVALID_QUERY')) query: ListAuditRecordsQuery,
    @CallMetadata() metadata: Metadata,
  ): Promise<{ items: AuditRecordView[]; nextPageToken: string | null }> {
    const res = await unaryCall(this.audit, 'listAuditRecords', toListAuditRecordsRequest(query), { metadata });
    return { items: res.records.map(toAuditRecordView), nextPageToken: nextPageTokenOf(res.page) };
  }
}
