import { complianceV1 } from '@tessera/contracts';
import type { Alert, AlertResolution, AlertStatus } from './alert';

/** Domain alert → protobuf (gRPC responses and compliance.alerts.v1 payloads share it). */
export function alertToProto(alert: Alert): complianceV1.Alert {
  return complianceV1.Alert.fromPartial({
    id: alert.id,
    ruleId: alert.ruleId,
    ruleVersion: alert.ruleVersion,
    severity: complianceV1.alertSeverityFromJSON(`ALERT_SEVERITY_${alert.severity}`),
    status: complianceV1.alertStatusFromJSON(`ALERT_STATUS_${alert.status}`),
    accountId: alert.accountId,
    transferIds: alert.transferIds,
    reasons: alert.reasons,
    assignee: alert.assignee ?? '',
    resolution: alert.resolution
      ? complianceV1.alertResolutionFromJSON(`ALERT_RESOLUTION_${alert.resolution}`)
      : complianceV1.AlertResolution.ALERT_RESOLUTION_UNSPECIFIED,
    resolutionNote: alert.resolutionNote ?? '',
    createdAt: alert.createdAt,
    updatedAt: alert.updatedAt,
    releaseApprovals: alert.releaseApprovals,
    heldTransferId: alert.heldTransferId ?? '',
    traceId: alert.traceId,
  });
}

export function alertStatusFromProto(status: complianceV1.AlertStatus): AlertStatus | undefined {
  const name = complianceV1.alertStatusToJSON(status).replace('ALERT_STATUS_', '');
  return ['OPEN', 'ASSIGNED', 'AWAITING_SECOND_APPROVAL', 'RESOLVED'].includes(name) ? (name as AlertStatus) : undefined;
}

export function alertResolutionFromProto(resolution: complianceV1.AlertResolution): AlertResolution | undefined {
  const name = complianceV1.alertResolutionToJSON(resolution).replace('ALERT_RESOLUTION_', '');
  return ['FALSE_POSITIVE', 'REPORTED', 'ESCALATED', 'RELEASE', 'DECLINE'].includes(name) ? (name as AlertResolution) : undefined;
}
