/** Screening results as the ledger uses them. No framework imports. */
export type ScreeningDecision = 'APPROVE' | 'REVIEW' | 'DECLINE';

export interface Screening {
  screeningId: string;
  decision: ScreeningDecision;
  reasons: { code: string; ruleId: string }[];
  ruleVersion: string;
  riskScore: number;
}

export interface ScreeningSubject {
  /** Transfer or hold id, generated before screening so compliance can reference it. */
  referenceId: string;
  sourceAccountId: string;
  destinationAccountId: string;
  amountMinor: bigint;
  currency: string;
  ownerId: string;
  /** PII: sent to compliance only, never logged or audited. */
  counterpartyName: string;
  counterpartyCountry: string;
  movementKind: 'transfer' | 'hold' | 'batch';
}

/** The audit payload of a decision: what decided and why, never the counterparty. */
export function decisionPayload(s: Screening, subject: Pick<ScreeningSubject, 'movementKind'>): Record<string, unknown> {
  return {
    screeningId: s.screeningId,
    decision: s.decision,
    ruleVersion: s.ruleVersion,
    riskScore: s.riskScore,
    reasons: s.reasons,
    movementKind: subject.movementKind,
  };
}
