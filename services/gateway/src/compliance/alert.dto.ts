import { complianceV1 } from '@tessera/contracts';
import { z } from 'zod';
import { emptyToNull, isoOrNull, pageQuery, pageView, toPageRequest, uuid } from '../http/common.dto';

const ALERT_STATUSES = ['OPEN', 'ASSIGNED', 'RESOLVED', 'AWAITING_SECOND_APPROVAL'] as const;
const RESOLUTIONS = ['FALSE_POSITIVE', 'REPORTED', 'ESCALATED', 'RELEASE', 'DECLINE'] as const;
const analyst = z.string().regex(/^[A-Za-z0-9._@:-]{1,128}$/, 'must be 1-128 characters of A-Z a-z 0-9 . _ @ : -');

export const listAlertsQuery = z
  .object({ status: z.enum(ALERT_STATUSES).optional(), accountId: uuid.optional(), assignee: analyst.optional(), ...pageQuery })
  .strict();
export type ListAlertsQuery = z.infer<typeof listAlertsQuery>;

export const assignAlertBody = z.object({ assignee: analyst }).strict();
export type AssignAlertBody = z.infer<typeof assignAlertBody>;

/** RELEASE needs two distinct reviewers (four-eyes, enforced by compliance on the forwarded principal). */
export const resolveAlertBody = z
  .object({ resolution: z.enum(RESOLUTIONS), note: z.string().trim().min(1, 'required').max(2000, 'must be at most 2000 characters') })
  .strict();
export type ResolveAlertBody = z.infer<typeof resolveAlertBody>;

export function toListAlertsRequest(query: ListAlertsQuery): complianceV1.ListAlertsRequest {
  return {
    page: toPageRequest(query),
    status: query.status ? complianceV1.AlertStatus[`ALERT_STATUS_${query.status}`] : complianceV1.AlertStatus.ALERT_STATUS_UNSPECIFIED,
    accountId: query.accountId ?? '',
    assignee: query.assignee ?? '',
  };
}

export function toResolveAlertRequest(alertId: string, body: ResolveAlertBody, idempotencyKey: string): complianceV1.ResolveAlertRequest {
  return { idempotencyKey, alertId, resolution: complianceV1.AlertResolution[`ALERT_RESOLUTION_${body.resolution}`], note: body.note };
}

export const alertView = z.object({
  id: z.string(),
  ruleId: z.string(),
  ruleVersion: z.string(),
  severity: z.string(),
  status: z.string(),
  accountId: z.string(),
  transferIds: z.array(z.string()),
  reasons: z.array(z.object({ code: z.string(), ruleId: z.string(), description: z.string() })),
  assignee: z.string().nullable(),
  resolution: z.string().nullable(),
  resolutionNote: z.string().nullable(),
  releaseApprovals: z.array(z.string()),
  heldTransferId: z.string().nullable(),
  /** W3C trace id of the step that raised the alert (the console links to it); null when untraced. */
  traceId: z.string().nullable(),
  createdAt: z.string().nullable(),
  updatedAt: z.string().nullable(),
});
export type AlertView = z.infer<typeof alertView>;
export const alertPageView = pageView(alertView);

export function toAlertView(alert: complianceV1.Alert): AlertView {
  const resolution = complianceV1.alertResolutionToJSON(alert.resolution).replace('ALERT_RESOLUTION_', '');
  return {
    id: alert.id,
    ruleId: alert.ruleId,
    ruleVersion: alert.ruleVersion,
    severity: complianceV1.alertSeverityToJSON(alert.severity).replace('ALERT_SEVERITY_', ''),
    status: complianceV1.alertStatusToJSON(alert.status).replace('ALERT_STATUS_', ''),
    accountId: alert.accountId,
    transferIds: [...alert.transferIds],
    reasons: alert.reasons.map((r) => ({ code: r.code, ruleId: r.ruleId, description: r.description })),
    assignee: emptyToNull(alert.assignee),
    resolution: resolution === 'UNSPECIFIED' ? null : resolution,
    resolutionNote: emptyToNull(alert.resolutionNote),
    releaseApprovals: [...alert.releaseApprovals],
    heldTransferId: emptyToNull(alert.heldTransferId),
    traceId: emptyToNull(alert.traceId),
    createdAt: isoOrNull(alert.createdAt),
    updatedAt: isoOrNull(alert.updatedAt),
  };
}
