import { Injectable } from '@nestjs/common';
import type { Alert } from '../alert';
import { alertErrors } from '../alert.errors';
import { AlertRepository } from '../alert.repository';
import { isKey, isUuid, requestHash, requireValid } from '../request-hash';

/** Gives an alert to an analyst; a retry with the same key changes nothing. */
@Injectable()
export class AssignAlertHandler {
  constructor(private readonly alerts: AlertRepository) {}

  async execute(cmd: { idempotencyKey: string; alertId: string; assignee: string; principal: string | undefined }): Promise<Alert> {
    requireValid([
      [isKey(cmd.idempotencyKey), 'idempotency_key', '8..128 characters'],
      [isUuid(cmd.alertId), 'alert_id', 'must be a UUID'],
      [cmd.assignee.length <= 128, 'assignee', 'at most 128 characters'],
    ]);
    if (!cmd.principal) throw alertErrors.principalRequired();
    const assignee = cmd.assignee || cmd.principal;
    const hash = requestHash({ op: 'assign', alertId: cmd.alertId, assignee });
    const prior = await this.alerts.findAction(cmd.idempotencyKey);
    if (prior) {
      if (prior.requestHash !== hash) throw alertErrors.idempotencyKeyReused();
      const current = await this.alerts.findById(cmd.alertId);
      if (!current) throw alertErrors.notFound(cmd.alertId);
      return current;
    }
    return this.alerts.withLocked(cmd.alertId, async (tx, alert) => {
      if (alert.status === 'RESOLVED') throw alertErrors.alreadyResolved(alert.id);
      return this.alerts.change(
        tx,
        alert.id,
        { assignee, ...(alert.status === 'OPEN' ? { status: 'ASSIGNED' as const } : {}) },
        { actor: cmd.principal ?? 'anonymous', action: 'assigned', note: assignee, idempotencyKey: cmd.idempotencyKey, requestHash: hash },
      );
    });
  }
}
