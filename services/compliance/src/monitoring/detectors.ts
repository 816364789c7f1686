import type { MonitoringRules } from '../rules/rule-set';
import type { Reason } from '../rules/reason';

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
const byTime = (a: ObservedTransfer, b: ObservedTransfer) => a.occurredAt.getTime() - b.occurredAt.getTime();

/** The amounts structuring counts in one currency: `floor <= amount < threshold`. */
export interface StructuringBand {
  currency: string;
  floor: bigint;
  threshold: bigint;
}

/** One band per currency with a structuring threshold; the monitor's query and `detectStructuring` share them. */
export function structuringBands(rules: MonitoringRules): StructuringBand[] {
  const r = rules.structuring;
  return Object.entries(r.thresholds).map(([currency, threshold]) => ({
    currency,
    floor: (threshold * BigInt(100 - r.bandPercent)) / 100n,
    threshold,
  }));
}

/**
 * Structuring: at least `minCount` transfers out of one account, each within `bandPercent` below the
 * currency's reporting threshold, inside the rolling window ending at `now` (event time, not wall time).
 */
export function detectStructuring(rules: MonitoringRules, accountId: string, outgoing: ObservedTransfer[], now: Date): Finding | undefined {
  const r = rules.structuring;
  const from = now.getTime() - r.windowSeconds * 1000;
  const bands = new Map(structuringBands(rules).map((b) => [b.currency, b]));
  const byCurrency = new Map<string, ObservedTransfer[]>();
  for (const t of outgoing) {
    const band = bands.get(t.currency);
    if (t.sourceAccountId !== accountId || band === undefined || !within(t, from, now.getTime())) continue;
    if (t.amountMinor >= band.floor && t.amountMinor < band.threshold)
      byCurrency.set(t.currency, [...(byCurrency.get(t.currency) ?? []), t]);
  }
  for (const [currency, hits] of byCurrency) {
    if (hits.length < r.minCount) continue;
    return {
      ruleId: 'aml.structuring',
      accountId,
      severity: 'HIGH',
      transferIds: hits.map((t) => t.transferId),
      reasons: [
        {
          code: 'COMPLIANCE.AML_STRUCTURING',
          ruleId: 'aml.structuring',
          description: `${hits.length} ${currency} transfers within ${r.bandPercent}% below the ${r.thresholds[currency]} threshold in ${r.windowSeconds}s`,
        },
      ],
    };
  }
  return undefined;
}

/** One account's movements in one currency over a time range, summed (the monitor's cheap pre-check). */
export interface RapidInOutTotals {
  currency: string;
  inSum: bigint;
  outCount: number;
  outSum: bigint;
}

/**
 * False when no rapid in-and-out pattern can lie inside the range `totals` were summed over: a pattern's transfers
 * are a subset of the range's, and amounts are positive, so it needs a currency whose range totals already reach
 * `minInAmount` in, one transfer out, and `minOutRatioPercent` of `minInAmount` out.
 */
export function mayRapidInOut(rules: MonitoringRules, totals: readonly RapidInOutTotals[]): boolean {
  const r = rules.rapidInOut;
  return totals.some((t) => {
    const minIn = r.minInAmount[t.currency];
    return minIn !== undefined && t.outCount > 0 && t.inSum >= minIn && t.outSum * 100n >= minIn * BigInt(r.minOutRatioPercent);
  });
}

/** The elements of a time-sorted list inside a window that only moves forward: [lo, hi) and their sum. */
class SlidingWindow {
  private lo = 0;
  private hi = 0;
  sum = 0n;

  constructor(private readonly items: readonly ObservedTransfer[]) {}

  moveTo(from: number, to: number): void {
    // Admit before evicting, so lo never passes hi.
    for (let t = this.items[this.hi]; t !== undefined && t.occurredAt.getTime() <= to; t = this.items[++this.hi]) this.sum += t.amountMinor;
    for (let t = this.items[this.lo]; t !== undefined && this.lo < this.hi && t.occurredAt.getTime() < from; t = this.items[++this.lo])
      this.sum -= t.amountMinor;
  }

  get size(): number {
    return this.hi - this.lo;
  }

  get inside(): ObservedTransfer[] {
    return this.items.slice(this.lo, this.hi);
  }
}

/**
 * Rapid in-and-out: money arrives on an account and at least `minOutRatioPercent` of it leaves again within
 * `windowSeconds` of its arrival. Checked on arrival and on departure, because events of different source
 * accounts are on different partitions and may be seen in either order. A pattern is the window
 * [start, start + windowSeconds] of one incoming transfer (`first`, the earliest qualifying one in time order);
 * with `involving`, only patterns whose window contains that instant (the observed transfer's time) are
 * considered. One sweep per currency over the time-sorted transfers: O(n log n).
 */
export function detectRapidInOut(
  rules: MonitoringRules,
  accountId: string,
  history: ObservedTransfer[],
  involving?: Date,
): Finding | undefined {
  const r = rules.rapidInOut;
  const windowMs = r.windowSeconds * 1000;
  const earliest = involving ? involving.getTime() - windowMs : -Infinity;
  const latest = involving ? involving.getTime() : Infinity;
  const incoming = history.filter((t) => t.destinationAccountId === accountId).sort(byTime);
  const sweeps = new Map<string, { ins: SlidingWindow; outs: SlidingWindow; outsInOrder: ObservedTransfer[] }>();
  for (const first of incoming) {
    const minIn = r.minInAmount[first.currency];
    if (minIn === undefined) continue;
    const start = first.occurredAt.getTime();
    if (start < earliest) continue;
    if (start > latest) break;
    let sweep = sweeps.get(first.currency);
    if (!sweep) {
      const outsInOrder = history.filter((t) => t.sourceAccountId === accountId && t.currency === first.currency);
      sweep = {
        ins: new SlidingWindow(incoming.filter((t) => t.currency === first.currency)),
        outs: new SlidingWindow([...outsInOrder].sort(byTime)),
        outsInOrder,
      };
      sweeps.set(first.currency, sweep);
    }
    sweep.ins.moveTo(start, start + windowMs);
    sweep.outs.moveTo(start, start + windowMs);
    const inSum = sweep.ins.sum;
    const outSum = sweep.outs.sum;
    if (sweep.outs.size > 0 && inSum >= minIn && outSum * 100n >= inSum * BigInt(r.minOutRatioPercent)) {
      // Outgoing transfers keep the order of `history`, as they always have.
      const outs = new Set(sweep.outs.inside);
      return {
        ruleId: 'aml.rapid_in_out',
        accountId,
        severity: 'MEDIUM',
        transferIds: [...sweep.ins.inside, ...sweep.outsInOrder.filter((t) => outs.has(t))].map((t) => t.transferId),
        reasons: [
          {
            code: 'COMPLIANCE.AML_RAPID_IN_OUT',
            ruleId: 'aml.rapid_in_out',
            description: `${outSum} of ${inSum} ${first.currency} minor units left the account within ${r.windowSeconds}s of arriving`,
          },
        ],
      };
    }
  }
  return undefined;
}

/** False when `destinations` distinct payees are too few for fan-out whichever of them were paid before. */
export function mayFanOut(rules: MonitoringRules, destinations: number): boolean {
  return destinations >= rules.fanOut.minNewCounterparties;
}

/**
 * Fan-out: one account pays at least `minNewCounterparties` distinct destinations inside the window that it
 * had not paid in the `lookbackDays` before the window.
 */
export function detectFanOut(
  rules: MonitoringRules,
  accountId: string,
  outgoing: ObservedTransfer[],
  previouslyPaid: ReadonlySet<string>,
  now: Date,
): Finding | undefined {
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
    reasons: [
      {
        code: 'COMPLIANCE.AML_FAN_OUT',
        ruleId: 'aml.fan_out',
        description: `${firstPayment.size} new counterparties paid within ${r.windowSeconds}s`,
      },
    ],
  };
}
