import type { Reason } from '../rules/reason';

export type AlertStatus = 'OPEN' | 'ASSIGNED' | 'AWAITING_SECOND_APPROVAL' | 'RESOLVED';
export type AlertSeverity = 'LOW' | 'MEDIUM' | 'HIGH';
export type AlertResolution = 'FALSE_POSITIVE' | 'REPORTED' | 'ESCALATED' | 'RELEASE' | 'DECLINE';

export interface Alert {
  id: string;
  ruleId: string;
  ruleVersion: string;
  severity: AlertSeverity;
  status: AlertStatus;
  accountId: string;
  transferIds: string[];
  reasons: Reason[];
  assignee: string | undefined;
  resolution: AlertResolution | undefined;
  resolutionNote: string | undefined;
  releaseApprovals: string[];
  heldTransferId: string | undefined;
  /** Trace of the step that raised it ("" when untraced). */
  traceId: string;
  createdAt: Date;
  updatedAt: Date;
}

/** What raising an alert needs; the id, status and timestamps are assigned on insert. */
export interface NewAlert {
  dedupeKey: string;
  ruleId: string;
  ruleVersion: string;
  severity: AlertSeverity;
  accountId: string;
  transferIds: string[];
  reasons: Reason[];
  heldTransferId?: string;
  /** Trace of the raising step: the consumer span of the transfer event, or the Screen call's span. */
  traceId?: string;
}

/** Release of a held transfer needs this many distinct reviewers. */
export const RELEASE_APPROVALS_REQUIRED = 2;

/**
 * The four-eyes step for a RELEASE by `reviewer`: which approvals the alert has afterwards and whether the
 * transfer may now be released. Pure, so the rule is testable without a database.
 */
export function approveRelease(
  alert: Pick<Alert, 'releaseApprovals'>,
  reviewer: string,
): { approvals: string[]; complete: boolean; alreadyApproved: boolean } {
  if (alert.releaseApprovals.includes(reviewer)) {
    return {
      approvals: alert.releaseApprovals,
      complete: alert.releaseApprovals.length >= RELEASE_APPROVALS_REQUIRED,
      alreadyApproved: true,
    };
  }
  const approvals = [...alert.releaseApprovals, reviewer];
  return { approvals, complete: approvals.length >= RELEASE_APPROVALS_REQUIRED, alreadyApproved: false };
}
