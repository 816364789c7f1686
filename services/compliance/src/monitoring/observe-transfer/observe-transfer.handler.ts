import { Injectable } from '@nestjs/common';
import { context, type Context } from '@opentelemetry/api';
import type { Prisma } from '../../generated/prisma/client';
import { createLogger } from '@tessera/telemetry';
import { AlertRepository, coversAny } from '../../alerts/alert.repository';
import { RulesProvider } from '../../platform/rules.provider';
import { activeTraceId } from '../../platform/trace-id';
import {
  detectFanOut,
  detectRapidInOut,
  detectStructuring,
  type Finding,
  mayFanOut,
  mayRapidInOut,
  type ObservedTransfer,
  structuringBands,
} from '../detectors';
import { MonitoringRepository, type WindowFacts, type WindowQuery } from '../monitoring.repository';

export const MONITOR_ACTOR = 'compliance.aml-monitor';
/** Events per monitor transaction: a few queries each, so a chunk stays well under a second on a busy box. */
const OBSERVE_CHUNK = 100;
/** Prisma's interactive-transaction limit for a chunk (its 5 s default would cut a chunk short on a loaded machine). */
const CHUNK_TIMEOUT_MS = 30_000;

/**
 * Records one transfer and runs the AML detectors on both accounts it touches. Dedupe, history, alerts and
 * their outbox rows commit in one transaction: a redelivered event finds its id claimed and does nothing.
 *
 * Each detector reads only what a pattern involving this transfer can contain, so an event costs a few index
 * range scans, not the accounts' whole day (t = the transfer's time, event time):
 * - structuring (source account): its transfers out in [t - window, t] inside a currency's band, filtered in SQL;
 * - rapid in-and-out (both accounts): one aggregate over [t - w, t + w] for both; an account's rows in that range
 *   are loaded only when its totals could hold a pattern (`mayRapidInOut`);
 * - fan-out (source account): its first payment to each destination in [t - window, t], then which of those it
 *   paid in the look-back period (skipped when too few destinations to matter).
 * Rapid in-and-out only looks for patterns that involve this transfer. A pattern is the window [s, s + w] of an
 * incoming transfer at s; if it holds the transfer, s <= t <= s + w, so s is in [t - w, t] and the whole pattern in
 * [s, s + w] is inside [t - w, t + w]. A pattern elsewhere in the day is not found again on an unrelated event: it was
 * found (and alerted) when its own transfers were observed, and an alert that covers them would suppress it anyway;
 * nor does such an older pattern hide a new one any more (the detector returns the first pattern only).
 */
type Rules = RulesProvider['rules'];
type EventWindows = WindowQuery & { accounts: string[]; hidden: readonly string[] };

/** The ranges one event's detectors read (see the class comment), in event time. */
function windowsOf(m: Rules['monitoring'], transfer: ObservedTransfer, hidden: readonly string[]): EventWindows {
  const now = transfer.occurredAt.getTime();
  const source = transfer.sourceAccountId;
  return {
    accounts: [...new Set([source, transfer.destinationAccountId])],
    source,
    // Rapid in-and-out may complete after `now` when events arrive out of order: the range looks ahead one window too.
    rapid: { from: new Date(now - m.rapidInOut.windowSeconds * 1000), to: new Date(now + m.rapidInOut.windowSeconds * 1000) },
    structuring: { from: new Date(now - m.structuring.windowSeconds * 1000), to: transfer.occurredAt },
    fanOut: { from: new Date(now - m.fanOut.windowSeconds * 1000), to: transfer.occurredAt },
    hidden,
  };
}

@Injectable()
export class ObserveTransferHandler {
  private readonly logger = createLogger('ObserveTransferHandler');

  constructor(
    private readonly repository: MonitoringRepository,
    private readonly alerts: AlertRepository,
    private readonly rulesProvider: RulesProvider,
  ) {}

  async execute(
    event: { eventId: string; type: string },
    transfer: ObservedTransfer | undefined,
    status: string,
  ): Promise<{ processed: boolean; alerts: number }> {
    const { processed, alerts } = await this.executeMany([{ event, transfer, status }]);
    return { processed: processed === 1, alerts };
  }

  /**
   * Events of one fetched batch, in order, `OBSERVE_CHUNK` to a transaction: each sees what the ones before it recorded,
   * exactly as one transaction per event would, without a BEGIN/COMMIT round trip pair per event. A chunk that fails
   * rolls back whole; the events of chunks already committed are claimed, so a retried batch skips them. Each event is
   * observed under its own `trace` context, so an alert keeps the trace id of the event that raised it.
   */
  async executeMany(
    events: Array<{ event: { eventId: string; type: string }; transfer: ObservedTransfer | undefined; status: string; trace?: Context }>,
  ): Promise<{ processed: number; alerts: number }> {
    let processed = 0;
    let alerts = 0;
    for (let from = 0; from < events.length; from += OBSERVE_CHUNK) {
      const chunk = events.slice(from, from + OBSERVE_CHUNK);
      const results = await this.repository.prisma.client.$transaction(
        async (tx) => {
          // Every event's claim and record in ONE statement, run under the first event's CONSUMER span; each other
          // event's trace gets a span for that statement (so every transfer's trace shows the monitor's write). Then
          // every claimed event's window reads in ONE statement; each event reads without the transfers of the claimed
          // events after it, so it sees exactly what one transaction per event would have shown it. The detectors and
          // alerts then run event by event, in order.
          const rules = this.rulesProvider.rules;
          const { claimed, recorded } = await context.with(chunk[0]?.trace ?? context.active(), () =>
            this.repository.claimAndRecordMany(
              tx,
              chunk,
              chunk.map((e) => e.trace),
            ),
          );
          const windows = chunk.map((e, i) => {
            const transfer = e.transfer;
            if (!claimed[i] || !transfer) return undefined;
            const seen = new Set(chunk.slice(0, i + 1).flatMap((x, j) => (claimed[j] && x.transfer ? [x.transfer.transferId] : [])));
            const hidden = chunk.flatMap((later, j) => {
              const id = later.transfer?.transferId;
              return j > i && claimed[j] && id && recorded.has(id) && !seen.has(id) ? [id] : [];
            });
            return windowsOf(rules.monitoring, transfer, hidden);
          });
          const queries = windows.flatMap((w) => (w ? [w] : []));
          const facts = await this.repository.windowFacts(tx, queries, structuringBands(rules.monitoring));
          const out: Array<{ processed: boolean; alerts: number }> = [];
          const found: Array<{ event: number; finding: Finding }> = [];
          for (const [i, e] of chunk.entries()) {
            const window = windows[i];
            out.push({ processed: claimed[i] === true, alerts: 0 });
            if (!claimed[i] || !window || !e.transfer) continue;
            const windowFacts = facts[queries.indexOf(window)] as WindowFacts;
            const findings = await context.with(e.trace ?? context.active(), () =>
              this.observe(tx, rules, e.transfer as ObservedTransfer, window, windowFacts),
            );
            for (const finding of findings) found.push({ event: i, finding });
          }
          // The chunk's alerts in two statements, whatever their number: which existing alerts could cover them, then
          // every uncovered finding raised, in event order. A finding is covered by an alert that existed or that an
          // earlier finding of the chunk raised, exactly as when each event raised its own before the next was observed.
          const covering = await this.alerts.covering(
            tx,
            found.map((f) => f.finding),
          );
          const raising: typeof found = [];
          for (const f of found) {
            if (coversAny(covering, f.finding)) continue;
            covering.push(f.finding);
            raising.push(f);
          }
          const raised = await this.alerts.raiseMany(
            tx,
            raising.map(({ event, finding: f }) => {
              const e = chunk[event] as (typeof chunk)[number];
              const traceId = context.with(e.trace ?? context.active(), () => activeTraceId());
              return {
                alert: {
                  dedupeKey: `${f.ruleId}:${f.accountId}:${e.event.eventId}`,
                  ruleId: f.ruleId,
                  ruleVersion: rules.version,
                  severity: f.severity,
                  accountId: f.accountId,
                  transferIds: f.transferIds,
                  reasons: f.reasons,
                  traceId,
                },
                actor: MONITOR_ACTOR,
                ...(e.trace ? { trace: e.trace } : {}),
              };
            }),
          );
          raised.forEach((alert, n) => {
            const { event, finding } = raising[n] as (typeof raising)[number];
            if (!alert) return;
            (out[event] as { alerts: number }).alerts += 1;
            context.with(chunk[event]?.trace ?? context.active(), () =>
              this.logger.info({ alertId: alert.id, ruleId: finding.ruleId, accountId: finding.accountId }, 'AML alert raised'),
            );
          });
          return out;
        },
        { timeout: CHUNK_TIMEOUT_MS },
      );
      for (const r of results) {
        processed += r.processed ? 1 : 0;
        alerts += r.alerts;
      }
    }
    return { processed, alerts };
  }

  /** The detectors for one claimed (and recorded) event, on its window reads, blind to the transfers in `window.hidden`. */
  private async observe(
    tx: Prisma.TransactionClient,
    rules: Rules,
    transfer: ObservedTransfer,
    window: EventWindows,
    facts: WindowFacts,
  ): Promise<Finding[]> {
    const m = rules.monitoring;
    const now = transfer.occurredAt;
    const { source, accounts, rapid, hidden } = window;
    const windowStart = window.fanOut.from;
    const findings: Finding[] = [];
    for (const accountId of accounts) {
      if (mayRapidInOut(m, facts.totals.get(accountId) ?? [])) {
        const found = detectRapidInOut(m, accountId, await this.repository.history(tx, accountId, rapid.from, rapid.to, hidden), now);
        if (found) findings.push(found);
      }
      if (accountId !== source) continue;
      const structuring = detectStructuring(m, source, facts.banded, now);
      if (structuring) findings.push(structuring);
      const destinations = facts.firstPayments.map((t) => t.destinationAccountId);
      const paid = mayFanOut(m, destinations.length)
        ? await this.repository.previouslyPaid(
            tx,
            source,
            destinations,
            new Date(windowStart.getTime() - m.fanOut.lookbackDays * 86_400_000),
            windowStart,
            hidden,
          )
        : new Set<string>();
      const fanOut = detectFanOut(m, source, facts.firstPayments, paid, now);
      if (fanOut) findings.push(fanOut);
    }
    return findings;
  }
}
