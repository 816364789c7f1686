import type { Metadata } from '@grpc/grpc-js';
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { complianceV1 } from '@tessera/contracts';
import { unaryCall } from '@tessera/grpc';
import { RequireScopes } from '../auth/auth.decorators';
import { nextPageTokenOf, required, uuid } from '../http/common.dto';
import { CallMetadata, IdempotencyKey } from '../http/request-context';
import { ZodPipe } from '../http/zod-body.pipe';
import { COMPLIANCE_CLIENT } from '../peers/peers.module';
import {
  assignAlertBody,
  type AssignAlertBody,
  type AlertView,
  listAlertsQuery,
  type ListAlertsQuery,
  resolveAlertBody,
  type ResolveAlertBody,
  toAlertView,
  toListAlertsRequest,
  toResolveAlertRequest,
} from './alert.dto';

const idPipe = () => new ZodPipe(uuid, 'HTTP.INVALID_ID', 'id');

/** The compliance review queue (`tessera.compliance.v1.ComplianceService`): list, assign, resolve. */
@Controller('v1/compliance/alerts')
export class AlertsController {
  constructor(@Inject(COMPLIANCE_CLIENT) private readonly compliance: complianceV1.ComplianceServiceClient) {}

  @Get()
  @RequireScopes('alerts:read')
  async list(
    @Query(new ZodPipe(listAlertsQuery, 'HTTP.INVALID_QUERY')) query: ListAlertsQuery,
    @CallMetadata() metadata: Metadata,
  ): Promise<{ items: AlertView[]; nextPageToken: string | null }> {
    const res = await unaryCall(this.compliance, 'listAlerts', toListAlertsRequest(query), { metadata });
    return { items: res.alerts.map(toAlertView), nextPageToken: nextPageTokenOf(res.page) };
  }

  @Post(':id/assign')
  @HttpCode(200)
  @RequireScopes('alerts:decide')
  async assign(
    @Param('id', idPipe()) id: string,
    @IdempotencyKey() key: string,
    @Body(new ZodPipe(assignAlertBody)) body: AssignAlertBody,
    @CallMetadata() metadata: Metadata,
  ): Promise<AlertView> {
    const { alert } = await unaryCall(
      this.compliance,
      'assignAlert',
      { idempotencyKey: key, alertId: id, assignee: body.assignee },
      { metadata },
    );
    return toAlertView(required(alert, 'alert'));
  }

  @Post(':id/resolve')
  @HttpCode(200)
  @RequireScopes('alerts:decide')
  async resolve(
    @Param('id', idPipe()) id: string,
    @IdempotencyKey() key: string,
    @Body(new ZodPipe(resolveAlertBody)) body: ResolveAlertBody,
    @CallMetadata() metadata: Metadata,
  ): Promise<AlertView> {
    const { alert } = await unaryCall(this.compliance, 'resolveAlert', toResolveAlertRequest(id, body, key), { metadata });
    return toAlertView(required(alert, 'alert'));
  }
}
