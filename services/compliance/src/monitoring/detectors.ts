import type { MonitoringRules } from '../rules/rule-set';
import type { Reason } from '../screening/screening';

/** A money movement as the monitor saw it on payments.transfer.events.v1. */
export interface ObservedTransfer {
  transferId: string;
  sourceAccountId: string;
  destinationAccountId: string;
  amountMinor: bigint;
  currency: string;
  occurredAt: Date;
}

export type AmlRuleId = 'aml.structuring' | 'aml.rapid_in_out' | 'aml.fan_out';

/** A pattern found on one account; becomes an alert unless one already covers the same transfers. */
export interface Finding {
  ruleId: AmlRuleId;
  accountId: string;
  severity: 'LOW' | 'MEDIUM' | 'HIGH';
  transferIds: string[];
  reasons: Reason[];
}

const within = (t: ObservedTransfer, from: number, to: number) => t.occurredAt.getTime() >= from && t.occurredAt.getTime() <= to;

/**
 * Structuring: at least `minCount` transfers out of one account, each within `bandPercent` below the
 * currency's reporting threshold, inside the rolling window ending at `now` (event time, not wall time).
 */
export function detectStructuring(rules: MonitoringRules, accountId: string, outgoing: ObservedTransfer[], now: Date): Finding | undefined {
  const r = rules.structuring;
  const from = now.getTime() - r.windowSeconds * 1000;
  const byCurrency = new Map<string, ObservedTransfer[]>();
  for (const t of outgoing) {
    const threshold = r.thresholds[t.currency];
    if (t.sourceAccountId !== accountId || threshold === undefined || !within(t, from, now.getTime())) continue;
    const floor = (threshold * BigInt(100 - r.bandPercent)) / 100n;
    if (t.amountMinor >= floor && t.amountMinor < threshold) byCurrency.set(t.currency, [...(byCurrency.get(t.currency) ?? []), t]);
  }
  for (const [currency, hits] of byCurrency) {
    if (hits.length < r.minCount) continue;
    return {
      ruleId: 'aml.structuring',
      accountId,
      severity: 'HIGH',
      transferIds: hits.map((t) => t.transferId),
      reasons: [{ code: 'COMPLIANCE.AML_STRUCTURING', ruleId: 'aml.structuring', description: `${hits.length} ${currency} transfers within ${r.bandPercent}% below the ${r.thresholds[currency]} threshold in ${r.windowSeconds}s` }],
    };
  }
  return undefined;
}

/**
 * Rapid in-and-out: money arrives on an account and at least `minOutRatioPercent` of it leaves again within
 * `windowSeconds` of its arrival. Checked on arrival and on departure, because events of different source
 * accounts are on different partitions and may be seen in either order.
 */
export function detectRapidInOut(rules: MonitoringRules, accountId: string, history: ObservedTransfer[]): Finding | undefined {
  const r = rules.rapidInOut;
  const windowMs = r.windowSeconds * 1000;
  const incoming = history.filter((t) => t.destinationAccountId === accountId).sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime());
  for (const first of incoming) {
    const minIn = r.minInAmount[first.currency];
    if (minIn === undefined) continue;
    const start = first.occurredAt.getTime();
    const end = start + windowMs;
    const ins = incoming.filter((t) => t.currency === first.currency && within(t, start, end));
    const outs = history.filter((t) => t.sourceAccountId === accountId && t.currency === first.currency && within(t, start, end));
    const inSum = ins.reduce((s, t) => s + t.amountMinor, 0n);
    const outSum = outs.reduce((s, t) => s + t.amountMinor, 0n);
    if (outs.length > 0 && inSum >= minIn && outSum * 100n >= inSum * BigInt(r.minOutRatioPercent)) {
      return {
        ruleId: 'aml.rapid_in_out',
        accountId,
        severity: 'MEDIUM',
        transferIds: [...ins, ...outs].map((t) => t.transferId),
        reasons: [{ code: 'COMPLIANCE.AML_RAPID_IN_OUT', ruleId: 'aml.rapid_in_out', description: `${outSum} of ${inSum} ${first.currency} minor units left the account within ${r.windowSeconds}s of arriving` }],
      };
    }
  }
  return undefined;
}

/**
 * Fan-out: one account pays at least `minNewCounterparties` distinct destinations inside the window that it
 * had not paid in the `lookbackDays` before the window.
 */
export function detectFanOut(rules: MonitoringRules, accountId: string, outgoing: ObservedTransfer[], previouslyPaid: ReadonlySet<string>, now: Date): Finding | undefined {
  const r = rules.fanOut;
  const from = now.getTime() - r.windowSeconds * 1000;
  const firstPayment = new Map<string, ObservedTransfer>();
  for (const t of outgoing) {
    if (t.sourceAccountId !== accountId || !within(t, from, now.getTime()) || previouslyPaid.has(t.destinationAccountId)) continue;
    if (!firstPayment.has(t.destinationAccountId)) firstPayment.set(t.destinationAccountId, t);
  }
  if (firstPayment.size < r.minNewCounterparties) return undefined;
  return {
    ruleId: 'aml.fan_out',
    accountId,
    severity: 'MEDIUM',
    transferIds: [...firstPayment.values()].map((t) => t.transferId),
    reasons: [{ code: 'COMPLIANCE.AML_FAN_OUT', ruleId: 'aml.fan_out', description: `${firstPayment.size} new counterparties paid within ${r.windowSeconds}s` }],
  };
}
