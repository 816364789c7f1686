import type { RuleSet } from '../rules/rule-set';
import type { SanctionsHit } from '../sanctions/sanctions-matcher';
import type { Reason } from '../rules/reason';

/** Why a rule fired (rules/reason.ts); descriptions name rules, limits and list entry ids, never the screened name. */
export type { Reason };

export type Decision = 'APPROVE' | 'REVIEW' | 'DECLINE';

export interface ScreeningInput {
  referenceId: string;
  movementKind: string;
  ownerId: string;
  sourceAccountId: string;
  destinationAccountId: string;
  amountMinor: bigint;
  currency: string;
  /** PII: compared against the sanctions list, never stored or logged. */
  counterpartyName: string;
  counterpartyCountry: string;
}

/** Earlier approved/held movements of the same owner and currency within a rolling window. */
export interface WindowStats {
  count: number;
  amountMinor: bigint;
}

export interface ScreeningFacts {
  /** Keyed by window length in seconds; must contain every window of {@link windowsNeeded}. */
  windows: Map<number, WindowStats>;
  sanctionsHit: SanctionsHit | undefined;
}

export interface ScreeningOutcome {
  decision: Decision;
  reasons: Reason[];
  riskScore: number;
}

export const DAY_SECONDS = 86_400;

/**
 * The history a movement counts against: limits and velocity are per owner and currency. Also the advisory lock
 * key that serialises screenings of one group, so it must not change while instances of two versions run.
 */
export function screeningGroup(input: Pick<ScreeningInput, 'ownerId' | 'currency'>): string {
  return `${input.ownerId}|${input.currency}`;
}

/** Window stats per {@link screeningGroup}, each keyed by window length like {@link ScreeningFacts.windows}. */
export type GroupHistory = Map<string, Map<number, WindowStats>>;

/** The history windows the rules need (daily limit + every velocity rule). */
export function windowsNeeded(rules: RuleSet): number[] {
  return [...new Set([DAY_SECONDS, ...rules.screening.velocity.map((v) => v.windowSeconds)])].sort((a, b) => a - b);
}

const SEVERITY: Record<Decision, number> = { APPROVE: 0, REVIEW: 1, DECLINE: 2 };

/** The strictest of some decisions (APPROVE < REVIEW < DECLINE); APPROVE for none. */
export function strictestDecision(decisions: readonly Decision[]): Decision {
  return decisions.reduce<Decision>((worst, d) => (SEVERITY[d] > SEVERITY[worst] ? d : worst), 'APPROVE');
}

/**
 * Applies a rule set to one movement. Pure: the caller supplies history and the sanctions hit, so the same
 * inputs and rule version always give the same decision. The strictest action wins; all fired rules are reported.
 */
export function evaluateScreening(rules: RuleSet, input: ScreeningInput, facts: ScreeningFacts): ScreeningOutcome {
  const fired: Array<{ action: Decision; score: number; reason: Reason }> = [];
  const fire = (action: Decision, score: number, code: string, ruleId: string, description: string) =>
    fired.push({ action, score, reason: { code, ruleId, description } });
  const s = rules.screening;

  const limits = s.currencies[input.currency];
  if (!limits) {
    fire(
      'DECLINE',
      100,
      'COMPLIANCE.CURRENCY_NOT_SUPPORTED',
      'currency.allowed',
      `currency ${input.currency} is not allowed by rule set ${rules.version}`,
    );
  } else {
    if (input.amountMinor > limits.perTransferMax) {
      fire(
        'DECLINE',
        90,
        'COMPLIANCE.AMOUNT_OVER_LIMIT',
        'limits.per_transfer_max',
        `amount exceeds the per-transfer maximum of ${limits.perTransferMax} ${input.currency} minor units`,
      );
    } else if (input.amountMinor > limits.perTransferReview) {
      fire(
        'REVIEW',
        50,
        'COMPLIANCE.AMOUNT_NEEDS_REVIEW',
        'limits.per_transfer_review',
        `amount exceeds the review threshold of ${limits.perTransferReview} ${input.currency} minor units`,
      );
    }
    const day = facts.windows.get(DAY_SECONDS) ?? { count: 0, amountMinor: 0n };
    if (day.amountMinor + input.amountMinor > limits.dailyMax) {
      fire(
        'DECLINE',
        80,
        'COMPLIANCE.DAILY_LIMIT_EXCEEDED',
        'limits.daily_max',
        `owner's 24h total would exceed ${limits.dailyMax} ${input.currency} minor units`,
      );
    }
  }

  for (const rule of s.velocity) {
    const w = facts.windows.get(rule.windowSeconds) ?? { count: 0, amountMinor: 0n };
    const score = rule.action === 'DECLINE' ? 85 : 55;
    if (rule.maxCount !== undefined && w.count + 1 > rule.maxCount) {
      fire(rule.action, score, 'COMPLIANCE.VELOCITY_EXCEEDED', rule.id, `more than ${rule.maxCount} movements in ${rule.windowSeconds}s`);
    }
    const maxAmount = rule.maxAmount?.[input.currency];
    if (maxAmount !== undefined && w.amountMinor + input.amountMinor > maxAmount) {
      fire(
        rule.action,
        score,
        'COMPLIANCE.VELOCITY_EXCEEDED',
        rule.id,
        `more than ${maxAmount} ${input.currency} minor units in ${rule.windowSeconds}s`,
      );
    }
  }

  const country = input.counterpartyCountry.toUpperCase();
  if (country && s.countries.blocked.includes(country)) {
    fire('DECLINE', 100, 'COMPLIANCE.COUNTRY_BLOCKED', 'countries.blocked', `counterparty country ${country} is blocked`);
  } else if (country && s.countries.highRisk.includes(country)) {
    fire('REVIEW', 60, 'COMPLIANCE.COUNTRY_HIGH_RISK', 'countries.high_risk', `counterparty country ${country} is high-risk`);
  }

  const hit = facts.sanctionsHit;
  if (hit && hit.score >= s.sanctions.reviewThreshold) {
    const action: Decision = hit.score >= s.sanctions.declineThreshold ? 'DECLINE' : 'REVIEW';
    fire(
      action,
      Math.round(hit.score * 100),
      'COMPLIANCE.SANCTIONS_MATCH',
      'sanctions.name_match',
      `counterparty name matches sanctions entry ${hit.entryId} (${hit.program}) with similarity ${hit.score.toFixed(3)}`,
    );
  }

  const decision = strictestDecision(fired.map((f) => f.action));
  return { decision, reasons: fired.map((f) => f.reason), riskScore: fired.reduce((m, f) => Math.max(m, f.score), 0) };
}

/** A movement to decide with its sanctions hit (matched before the history is read). */
export interface Movement {
  input: ScreeningInput;
  sanctionsHit: SanctionsHit | undefined;
}

/**
 * Decides movements one after another exactly as consecutive Screens would: an APPROVE or REVIEW joins its group's
 * history (every window: it was decided now) before the next movement of that group is evaluated. `history` holds
 * the stored history of the groups involved (a missing group or window has none) and is not modified. Returns each
 * movement with its outcome, in order.
 */
export function evaluateInOrder<M extends Movement>(
  rules: RuleSet,
  movements: readonly M[],
  history: GroupHistory,
): Array<{ movement: M; outcome: ScreeningOutcome }> {
  const running = new Map<string, Map<number, WindowStats>>();
  const windows = windowsNeeded(rules);
  return movements.map((movement) => {
    const { input, sanctionsHit } = movement;
    const group = screeningGroup(input);
    let stats = running.get(group);
    if (!stats) {
      const stored = history.get(group);
      stats = new Map(windows.map((w) => [w, { ...(stored?.get(w) ?? { count: 0, amountMinor: 0n }) }]));
      running.set(group, stats);
    }
    const outcome = evaluateScreening(rules, input, { windows: stats, sanctionsHit });
    if (outcome.decision !== 'DECLINE') {
      for (const w of stats.values()) {
        w.count += 1;
        w.amountMinor += input.amountMinor;
      }
    }
    return { movement, outcome };
  });
}
