import { Injectable } from '@nestjs/common';
import { createLogger } from '@tessera/telemetry';
import { TransactionsClient } from '../../platform/transactions.client';
import { type Alert, type AlertResolution, approveRelease } from '../alert';
import { alertErrors } from '../alert.errors';
import { AlertRepository } from '../alert.repository';
import { isKey, isUuid, requestHash, requireValid } from '../request-hash';

export interface ResolveAlertCommand {
  idempotencyKey: string;
  alertId: string;
  resolution: AlertResolution | undefined;
  note: string;
  principal: string | undefined;
}

type Drive = 'release' | 'decline' | undefined;

/**
 * Resolves an alert. For an alert holding a transfer, RELEASE is four-eyes: the first reviewer's approval
 * moves it to AWAITING_SECOND_APPROVAL, a second DISTINCT reviewer's approval makes compliance call
 * TransferService.ReleaseTransfer. Each approval is first recorded in transactions (ApproveRelease) under the
 * officer's own forwarded credential: transactions releases only with two such records. The release call happens
 * after the approval committed and carries a key derived from the alert id, so if it fails the same (or a retried)
 * call re-drives it without double-posting.
 */
@Injectable()
export class ResolveAlertHandler {
  private readonly logger = createLogger('ResolveAlertHandler');

  constructor(
    private readonly alerts: AlertRepository,
    private readonly transactions: TransactionsClient,
  ) {}

  async execute(cmd: ResolveAlertCommand): Promise<Alert> {
    requireValid([
      [isKey(cmd.idempotencyKey), 'idempotency_key', '8..128 characters'],
      [isUuid(cmd.alertId), 'alert_id', 'must be a UUID'],
      [cmd.resolution !== undefined, 'resolution', 'required'],
      [cmd.note.length <= 2000, 'note', 'at most 2000 characters'],
    ]);
    if (!cmd.principal) throw alertErrors.principalRequired();
    const principal = cmd.principal;
    const resolution = cmd.resolution as AlertResolution;
    const hash = requestHash({ op: 'resolve', alertId: cmd.alertId, resolution, note: cmd.note, principal });
    const prior = await this.alerts.findAction(cmd.idempotencyKey);
    if (prior && prior.requestHash !== hash) throw alertErrors.idempotencyKeyReused();

    const { alert, drive } = await this.alerts.withLocked(cmd.alertId, async (tx, current): Promise<{ alert: Alert; drive: Drive }> => {
      if (current.status === 'RESOLVED') {
        if (prior) return { alert: current, drive: undefined };
        throw alertErrors.alreadyResolved(current.id);
      }
      const isDecision = resolution === 'RELEASE' || resolution === 'DECLINE';
      if (isDecision && !current.heldTransferId) throw alertErrors.nothingHeld(current.id);
      if (!isDecision && current.heldTransferId) throw alertErrors.heldTransferNeedsDecision(current.id);
      if (resolution === 'DECLINE') return { alert: current, drive: 'decline' };
      if (resolution === 'RELEASE') {
        const step = approveRelease(current, principal);
        // The approval counts in transactions only if recorded there under this officer's own credential (forwarded
        // with this call): compliance's list alone no longer releases anything (issue #13). Idempotent per officer, so
        // recording it again (a retry; an approval given before this check existed) is harmless.
        await this.transactions.approveRelease({ transferId: current.heldTransferId ?? '', alertId: current.id, note: cmd.note });
        if (step.alreadyApproved) {
          // The same reviewer again: a retry after a failed release may re-drive it, a second approval may not.
          if (step.complete) return { alert: current, drive: 'release' };
          if (prior) return { alert: current, drive: undefined };
          throw alertErrors.fourEyesRequired(current.id);
        }
        const approved = await this.alerts.change(
          tx,
          current.id,
          { releaseApprovals: step.approvals, status: 'AWAITING_SECOND_APPROVAL', ...(step.complete ? { resolutionNote: cmd.note } : {}) },
          { actor: principal, action: 'release_approved', note: cmd.note, idempotencyKey: cmd.idempotencyKey, requestHash: hash },
        );
        return { alert: approved, drive: step.complete ? 'release' : undefined };
      }
      const resolved = await this.alerts.change(
        tx,
        current.id,
        { status: 'RESOLVED', resolution, resolutionNote: cmd.note },
        { actor: principal, action: 'resolved', note: cmd.note, idempotencyKey: cmd.idempotencyKey, requestHash: hash },
      );
      return { alert: resolved, drive: undefined };
    });
    if (!drive) return alert;
    return this.driveHeldTransfer(alert, drive, principal, cmd);
  }

  private async driveHeldTransfer(alert: Alert, drive: 'release' | 'decline', principal: string, cmd: ResolveAlertCommand): Promise<Alert> {
    const transferId = alert.heldTransferId ?? '';
    try {
      if (drive === 'release') {
        await this.transactions.releaseTransfer({
          idempotencyKey: `compliance-release-${alert.id}`,
          transferId,
          approvedBy: alert.releaseApprovals,
          note: alert.resolutionNote ?? '',
          alertId: alert.id,
        });
      } else {
        await this.transactions.declineHeldTransfer({
          idempotencyKey: `compliance-decline-${alert.id}`,
          transferId,
          declinedBy: principal,
          note: cmd.note,
          alertId: alert.id,
        });
      }
    } catch (error) {
      this.logger.warn({ alertId: alert.id, drive, err: error }, 'held transfer call failed');
      throw alertErrors.transactionsFailed(alert.id, error);
    }
    return this.alerts.withLocked(alert.id, async (tx, current) => {
      if (current.status === 'RESOLVED') return current;
      const resolution: AlertResolution = drive === 'release' ? 'RELEASE' : 'DECLINE';
      const note = drive === 'release' ? (current.resolutionNote ?? '') : cmd.note;
      // The decline records the caller's key here; a release recorded it with the second approval.
      const key =
        drive === 'decline'
          ? {
              idempotencyKey: cmd.idempotencyKey,
              requestHash: requestHash({ op: 'resolve', alertId: cmd.alertId, resolution, note: cmd.note, principal }),
            }
          : {};
      return this.alerts.change(
        tx,
        current.id,
        { status: 'RESOLVED', resolution, resolutionNote: note },
        { actor: principal, action: drive === 'release' ? 'released' : 'declined', note, ...key },
      );
    });
  }
}
