import { Injectable } from '@nestjs/common';
import { createLogger } from '@tessera/telemetry';
import { AlertRepository } from '../../alerts/alert.repository';
import { RulesProvider } from '../../platform/rules.provider';
import { activeTraceId } from '../../platform/trace-id';
import { detectFanOut, detectRapidInOut, detectStructuring, type Finding, type ObservedTransfer } from '../detectors';
import { MonitoringRepository } from '../monitoring.repository';

export const MONITOR_ACTOR = 'compliance.aml-monitor';

/**
 * Records one transfer and runs the AML detectors on both accounts it touches. Dedupe, history, alerts and
 * their outbox rows commit in one transaction: a redelivered event finds its id claimed and does nothing.
 */
@Injectable()
export class ObserveTransferHandler {
  private readonly logger = createLogger('ObserveTransferHandler');

  constructor(
    private readonly repository: MonitoringRepository,
    private readonly alerts: AlertRepository,
    private readonly rulesProvider: RulesProvider,
  ) {}

  async execute(event: { eventId: string; type: string }, transfer: ObservedTransfer | undefined, status: string): Promise<{ processed: boolean; alerts: number }> {
    const rules = this.rulesProvider.rules;
    const m = rules.monitoring;
    return this.repository.prisma.client.$transaction(async (tx) => {
      if (!(await this.repository.claimEvent(tx, event.eventId, event.type))) return { processed: false, alerts: 0 };
      if (!transfer) return { processed: true, alerts: 0 };
      await this.repository.record(tx, transfer, status);
      const now = transfer.occurredAt;
      const longest = Math.max(m.structuring.windowSeconds, m.rapidInOut.windowSeconds, m.fanOut.windowSeconds) * 1000;
      const findings: Finding[] = [];
      for (const accountId of [transfer.sourceAccountId, transfer.destinationAccountId]) {
        // Rapid in-and-out may complete after `now` when events arrive out of order: look ahead one window too.
        const history = await this.repository.history(tx, accountId, new Date(now.getTime() - longest), new Date(now.getTime() + m.rapidInOut.windowSeconds * 1000));
        const rapid = detectRapidInOut(m, accountId, history);
        if (rapid) findings.push(rapid);
        if (accountId !== transfer.sourceAccountId) continue;
        const outgoing = history.filter((t) => t.sourceAccountId === accountId && t.occurredAt.getTime() <= now.getTime());
        const structuring = detectStructuring(m, accountId, outgoing, now);
        if (structuring) findings.push(structuring);
        const windowStart = new Date(now.getTime() - m.fanOut.windowSeconds * 1000);
        const destinations = [...new Set(outgoing.filter((t) => t.occurredAt >= windowStart).map((t) => t.destinationAccountId))];
        const paid = await this.repository.previouslyPaid(tx, accountId, destinations, new Date(windowStart.getTime() - m.fanOut.lookbackDays * 86_400_000), windowStart);
        const fanOut = detectFanOut(m, accountId, outgoing, paid, now);
        if (fanOut) findings.push(fanOut);
      }
      let raised = 0;
      for (const f of findings) {
        if (await this.alerts.covered(tx, f.ruleId, f.accountId, f.transferIds)) continue;
        const alert = await this.alerts.raise(
          tx,
          { dedupeKey: `${f.ruleId}:${f.accountId}:${event.eventId}`, ruleId: f.ruleId, ruleVersion: rules.version, severity: f.severity, accountId: f.accountId, transferIds: f.transferIds, reasons: f.reasons, traceId: activeTraceId() },
          MONITOR_ACTOR,
        );
        if (alert) {
          raised += 1;
          this.logger.info({ alertId: alert.id, ruleId: f.ruleId, accountId: f.accountId }, 'AML alert raised');
        }
      }
      return { processed: true, alerts: raised };
    });
  }
}
