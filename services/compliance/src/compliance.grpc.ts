import { Injectable } from '@nestjs/common';
import { complianceV1 } from '@tessera/contracts';
import type { CallContext, UnaryImplementation } from '@tessera/grpc';
import { actorOf, principalOf } from '@tessera/auth';
import { alertResolutionFromProto, alertStatusFromProto, alertToProto } from './alerts/alert.codec';
import { AssignAlertHandler } from './alerts/assign-alert/assign-alert.handler';
import { ListAlertsHandler } from './alerts/list-alerts/list-alerts.handler';
import { ResolveAlertHandler } from './alerts/resolve-alert/resolve-alert.handler';
import { type ScreenCommand, ScreenHandler } from './screening/screen/screen.handler';

type ComplianceServiceImpl = UnaryImplementation<typeof complianceV1.ComplianceServiceService>;

/**
 * gRPC face of compliance: maps protobuf to handler commands and back. Calls arrive authorised by the CallGuard
 * (auth/compliance.policy.ts); the acting officer is the verified principal's subject.
 */
@Injectable()
export class ComplianceGrpc {
  constructor(
    private readonly screen: ScreenHandler,
    private readonly listAlerts: ListAlertsHandler,
    private readonly assignAlert: AssignAlertHandler,
    private readonly resolveAlert: ResolveAlertHandler,
  ) {}

  implementation(): ComplianceServiceImpl {
    return {
      screen: async (req: complianceV1.ScreenRequest, ctx: CallContext) => {
        const { idempotencyKey, input } = screenCommandOf(req);
        return this.screen.execute(idempotencyKey, input, actorOf(ctx), undefined, ctx.signal);
      },
      screenBatch: async (req: complianceV1.ScreenBatchRequest, ctx: CallContext) => ({
        items: await this.screen.executeBatch(req.items.map(screenCommandOf), actorOf(ctx), undefined, ctx.signal),
      }),
      listAlerts: async (req: complianceV1.ListAlertsRequest) => {
        const status = alertStatusFromProto(req.status);
        const page = await this.listAlerts.execute({
          pageSize: req.page?.pageSize ?? 0,
          pageToken: req.page?.pageToken ?? '',
          ...(status ? { status } : {}),
          ...(req.accountId ? { accountId: req.accountId } : {}),
          ...(req.assignee ? { assignee: req.assignee } : {}),
        });
        return { alerts: page.alerts.map(alertToProto), page: { nextPageToken: page.nextPageToken } };
      },
      assignAlert: async (req: complianceV1.AssignAlertRequest, ctx: CallContext) => ({
        alert: alertToProto(
          await this.assignAlert.execute({
            idempotencyKey: req.idempotencyKey,
            alertId: req.alertId,
            assignee: req.assignee,
            principal: principalOf(ctx).subject,
          }),
        ),
      }),
      resolveAlert: async (req: complianceV1.ResolveAlertRequest, ctx: CallContext) => ({
        alert: alertToProto(
          await this.resolveAlert.execute({
            idempotencyKey: req.idempotencyKey,
            alertId: req.alertId,
            resolution: alertResolutionFromProto(req.resolution),
            note: req.note,
            principal: principalOf(ctx).subject,
          }),
        ),
      }),
    };
  }
}

function screenCommandOf(req: complianceV1.ScreenRequest): ScreenCommand {
  const s = req.subject;
  return {
    idempotencyKey: req.idempotencyKey,
    input: {
      referenceId: s?.referenceId ?? '',
      movementKind: s?.movementKind || 'transfer',
      ownerId: s?.ownerId ?? '',
      sourceAccountId: s?.sourceAccountId ?? '',
      destinationAccountId: s?.destinationAccountId ?? '',
      amountMinor: s?.amount?.amountMinor ?? 0n,
      currency: s?.amount?.currency ?? '',
      counterpartyName: s?.counterpartyName ?? '',
      counterpartyCountry: s?.counterpartyCountry ?? '',
    },
  };
}
