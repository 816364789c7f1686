import { trace } from '@opentelemetry/api';
import { markSpanFailed } from '@tessera/telemetry';
import { type Decision, type ScreeningInput, type ScreeningOutcome, strictestDecision } from './screening';

const tracer = trace.getTracer('compliance.screening');

/**
 * Runs the screening rules for the movements a Screen or ScreenBatch call decides inside ONE `screening decision`
 * span (a child of the RPC's server span), so a trace shows what was decided and by which rules beside the time it
 * took, without a span per batch item. The attributes summarise: the strictest decision, counts per decision, every
 * fired rule code/id, the highest risk score; for one movement they are exactly that movement's. Codes, ids and
 * numbers only: the counterparty name (PII) and the rules' human descriptions (which may quote it) stay out.
 */
export function traceScreeningDecisions<D extends { movement: { input: ScreeningInput }; outcome: ScreeningOutcome }>(
  ruleVersion: string,
  decide: () => D[],
): D[] {
  return tracer.startActiveSpan('screening decision', (span) => {
    try {
      const decided = decide();
      const outcomes = decided.map((d) => d.outcome);
      const inputs = decided.map((d) => d.movement.input);
      const count = (d: Decision) => outcomes.filter((o) => o.decision === d).length;
      const references = inputs.map((i) => i.referenceId).filter((r) => r !== '');
      span.setAttributes({
        'tessera.screening.decision': strictestDecision(outcomes.map((o) => o.decision)),
        'tessera.screening.count': outcomes.length,
        'tessera.screening.approved': count('APPROVE'),
        'tessera.screening.reviewed': count('REVIEW'),
        'tessera.screening.declined': count('DECLINE'),
        'tessera.screening.rule_codes': [...new Set(outcomes.flatMap((o) => o.reasons.map((r) => r.code)))],
        'tessera.screening.rule_ids': [...new Set(outcomes.flatMap((o) => o.reasons.map((r) => r.ruleId)))],
        'tessera.screening.rule_version': ruleVersion,
        'tessera.screening.risk_score': outcomes.reduce((m, o) => Math.max(m, o.riskScore), 0),
        'tessera.screening.sanctions_checked': inputs.some((i) => i.counterpartyName !== ''),
        ...(inputs.length === 1 && references[0] !== undefined ? { 'tessera.transfer.id': references[0] } : {}),
        ...(inputs.length > 1 && references.length > 0 ? { 'tessera.transfer.ids': references } : {}),
      });
      return decided;
    } catch (error) {
      markSpanFailed(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}
