import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AdmissionGate } from '@tessera/db';
import { complianceV1 } from '@tessera/contracts';
import { AppError } from '@tessera/errors';
import { createLogger } from '@tessera/telemetry';
import { isKey, requestHash, requireValid } from '../../alerts/request-hash';
import { type ComplianceConfig, COMPLIANCE_CONFIG } from '../../config';
import { RulesProvider } from '../../platform/rules.provider';
import { activeTraceId } from '../../platform/trace-id';
import { evaluateScreening, type ScreeningInput, windowsNeeded } from '../screening';
import { ScreeningRepository } from '../screening.repository';
import { traceScreeningDecision } from '../screening.tracing';

const MAX_AMOUNT = 9_223_372_036_854_775_807n;

/**
 * Pre-authorisation screening on the transfer path: validate, match the counterparty name (in memory), then
 * read the owner's history, decide and log the decision in one short transaction. A REVIEW also raises the
 * review alert that holds the transfer. Retries with the same key replay the first response byte for byte.
 */
@Injectable()
export class ScreenHandler {
  private readonly logger = createLogger('ScreenHandler');
  /** One screening per pooled connection; callers that left while queued are dropped (see AdmissionGate). */
  private readonly admission: AdmissionGate;

  constructor(
    private readonly rules: RulesProvider,
    private readonly repository: ScreeningRepository,
    @Inject(COMPLIANCE_CONFIG) config: Pick<ComplianceConfig, 'COMPLIANCE_DB_POOL_MAX'>,
  ) {
    this.admission = new AdmissionGate(config.COMPLIANCE_DB_POOL_MAX);
  }

  /**
   * `signal` is the call's (aborted when the caller cancels or its deadline passes): a screening still queued for
   * a connection when it fires is dropped with DEADLINE_EXCEEDED instead of being decided for nobody. A decision
   * already under way completes and commits, so a retry with the same key replays it.
   */
  async execute(
    idempotencyKey: string,
    input: ScreeningInput,
    actor: string,
    now: () => Date = () => new Date(),
    signal?: AbortSignal,
  ): Promise<complianceV1.ScreenResponse> {
    return this.admission.run(signal, callerGone, () => this.decide(idempotencyKey, input, actor, now));
  }

  private async decide(idempotencyKey: string, input: ScreeningInput, actor: string, now: () => Date): Promise<complianceV1.ScreenResponse> {
    const started = process.hrtime.bigint();
    requireValid([
      [isKey(idempotencyKey), 'idempotency_key', '8..128 characters'],
      [input.ownerId !== '', 'subject.owner_id', 'required'],
      [input.sourceAccountId !== '', 'subject.source_account_id', 'required'],
      [input.destinationAccountId !== '', 'subject.destination_account_id', 'required'],
      [input.amountMinor > 0n && input.amountMinor <= MAX_AMOUNT, 'subject.amount.amount_minor', 'must be a positive int64'],
      [/^[A-Z]{3}$/.test(input.currency), 'subject.amount.currency', 'must be an ISO 4217 code'],
      [input.counterpartyCountry === '' || /^[A-Za-z]{2}$/.test(input.counterpartyCountry), 'subject.counterparty_country', 'must be ISO 3166-1 alpha-2'],
      [input.counterpartyName.length <= 512, 'subject.counterparty_name', 'at most 512 characters'],
    ]);
    const { rules, matcher } = this.rules;
    const hash = requestHash({ ...input, counterpartyName: requestHash(input.counterpartyName) });
    const prior = await this.repository.findByKey(idempotencyKey);
    if (prior) return this.replay(prior.requestHash, hash, prior.response);

    const sanctionsHit = input.counterpartyName ? matcher.bestMatch(input.counterpartyName, rules.screening.sanctions.reviewThreshold) : undefined;
    const at = now();
    // Captured here, outside the transaction callback: the Screen span is the one the alert links to.
    const traceId = activeTraceId();
    const result = await this.repository.decideOnce(idempotencyKey, hash, input, windowsNeeded(rules), at, (windows) => {
      const outcome = traceScreeningDecision(input, rules.version, () => evaluateScreening(rules, input, { windows, sanctionsHit }));
      const id = randomUUID();
      const response = complianceV1.ScreenResponse.fromPartial({
        screeningId: id,
        decision: complianceV1.decisionFromJSON(`DECISION_${outcome.decision}`),
        reasons: outcome.reasons,
        ruleVersion: rules.version,
        riskScore: outcome.riskScore,
      });
      const latencyMicros = Number((process.hrtime.bigint() - started) / 1000n);
      const held = outcome.decision === 'REVIEW' && input.referenceId !== '';
      return {
        record: { id, ...outcome, ruleVersion: rules.version, actor, decidedAt: at, latencyMicros, response: complianceV1.ScreenResponse.encode(response).finish() },
        ...(outcome.decision === 'REVIEW'
          ? {
              alert: {
                dedupeKey: `screening:${id}`,
                ruleId: outcome.reasons[0]?.ruleId ?? 'screening.review',
                ruleVersion: rules.version,
                severity: outcome.reasons.some((r) => r.code === 'COMPLIANCE.SANCTIONS_MATCH') ? ('HIGH' as const) : ('MEDIUM' as const),
                accountId: input.sourceAccountId,
                transferIds: input.referenceId ? [input.referenceId] : [],
                reasons: outcome.reasons,
                ...(held ? { heldTransferId: input.referenceId } : {}),
                traceId,
              },
            }
          : {}),
      };
    });
    if (result.replayed) return this.replay(result.requestHash, hash, result.response);
    const decoded = complianceV1.ScreenResponse.decode(result.response);
    this.logger.info(
      { screeningId: decoded.screeningId, decision: complianceV1.decisionToJSON(decoded.decision), ruleVersion: decoded.ruleVersion, codes: decoded.reasons.map((r) => r.code) },
      'screening decided',
    );
    return decoded;
  }

  private replay(priorHash: string, hash: string, response: Uint8Array): complianceV1.ScreenResponse {
    if (priorHash !== hash) {
      throw new AppError({ code: 'COMPLIANCE.IDEMPOTENCY_KEY_REUSED', kind: 'FAILED_PRECONDITION', message: 'idempotency key was used for a different screening' });
    }
    return complianceV1.ScreenResponse.decode(response);
  }
}

const callerGone = () =>
  new AppError({ code: 'COMPLIANCE.CALLER_GONE', kind: 'DEADLINE_EXCEEDED', message: 'The caller cancelled or its deadline passed while the screening waited; nothing was decided' });
