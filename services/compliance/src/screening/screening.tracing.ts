import { trace } from '@opentelemetry/api';
import { markSpanFailed } from '@tessera/telemetry';
import type { ScreeningInput, ScreeningOutcome } from './screening';

const tracer = trace.getTracer('compliance.screening');

/**
 * Runs the screening rules inside a `screening decision` span (a child of the Screen RPC's server span), so a
 * trace shows what was decided and by which rules beside the time it took. Attributes are codes, ids and
 * numbers only: the counterparty name (PII) and the rules' human descriptions (which may quote it) stay out.
 */
export function traceScreeningDecision(input: ScreeningInput, ruleVersion: string, decide: () => ScreeningOutcome): ScreeningOutcome {
  return tracer.startActiveSpan('screening decision', (span) => {
    try {
      const outcome = decide();
      span.setAttributes({
        'tessera.screening.decision': outcome.decision,
        'tessera.screening.rule_codes': [...new Set(outcome.reasons.map((r) => r.code))],
        'tessera.screening.rule_ids': [...new Set(outcome.reasons.map((r) => r.ruleId))],
        'tessera.screening.rule_version': ruleVersion,
        'tessera.screening.risk_score': outcome.riskScore,
        'tessera.screening.sanctions_checked': input.counterpartyName !== '',
        ...(input.referenceId ? { 'tessera.transfer.id': input.referenceId } : {}),
      });
      return outcome;
    } catch (error) {
      markSpanFailed(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}
