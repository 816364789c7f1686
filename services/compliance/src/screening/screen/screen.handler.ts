import { v7 as uuidv7 } from 'uuid';
import { Inject, Injectable } from '@nestjs/common';
import { AdmissionGate } from '@tessera/db';
import { complianceV1 } from '@tessera/contracts';
import { AppError } from '@tessera/errors';
import { createLogger } from '@tessera/telemetry';
import type { NewAlert } from '../../alerts/alert';
import { isKey, requestHash, requireValid } from '../../alerts/request-hash';
import { type ComplianceConfig, COMPLIANCE_CONFIG } from '../../config';
import { RulesProvider } from '../../platform/rules.provider';
import { activeTraceId } from '../../platform/trace-id';
import type { SanctionsHit } from '../../sanctions/sanctions-matcher';
import { evaluateInOrder, type ScreeningInput, type ScreeningOutcome, windowsNeeded } from '../screening';
import { type DecidedScreening, type PendingScreening, ScreeningRepository } from '../screening.repository';
import { traceScreeningDecisions } from '../screening.tracing';

const MAX_AMOUNT = 9_223_372_036_854_775_807n;
/** ScreenBatch takes at most this many screenings (the transactions batch route's limit). */
export const MAX_BATCH_ITEMS = 100;

/**
 * Pooled connections the service's background work may hold at any time, each in one transaction at a time: the AML
 * monitor (one chunk of events) and the alert outbox relay.
 */
export const BACKGROUND_CONNECTIONS = 2;

/**
 * Screenings admitted at once: the pool minus the background work's connections, so an admitted screening finds a
 * free connection at once. Admitting the whole pool let the monitor and the relay take two of its connections under
 * load; two admitted screenings then waited in Prisma's pool past its 2 s `maxWait` and failed with "Unable to start a
 * transaction in the given time" (the transfer got 503 COMPLIANCE_UNAVAILABLE). A pool too small to spare them gets
 * one screening at a time.
 */
export function screeningSlots(poolMax: number): number {
  return Math.max(1, poolMax - BACKGROUND_CONNECTIONS);
}

/** One screening of a Screen or ScreenBatch call. */
export interface ScreenCommand {
  idempotencyKey: string;
  input: ScreeningInput;
}

/**
 * Pre-authorisation screening on the transfer path, for Screen (one movement) and ScreenBatch (up to 100, a Screen
 * being a batch of one): validate, match the counterparty names (in memory), then read the owners' history, decide
 * and log the decisions in one short transaction. The movements of a batch are decided in request order, each after
 * the ones before it, exactly as consecutive Screen calls would be. A REVIEW also raises the review alert that holds
 * the transfer. Retries with the same key replay the first response byte for byte.
 */
@Injectable()
export class ScreenHandler {
  private readonly logger = createLogger('ScreenHandler');
  /**
   * One call (a screening or a whole batch) per pooled connection the background work leaves free (see
   * `screeningSlots`); callers that left while queued are dropped (see AdmissionGate).
   */
  private readonly admission: AdmissionGate;

  constructor(
    private readonly rules: RulesProvider,
    private readonly repository: ScreeningRepository,
    @Inject(COMPLIANCE_CONFIG) config: Pick<ComplianceConfig, 'COMPLIANCE_DB_POOL_MAX'>,
  ) {
    this.admission = new AdmissionGate(screeningSlots(config.COMPLIANCE_DB_POOL_MAX));
  }

  /**
   * Screen. `signal` is the call's (aborted when the caller cancels or its deadline passes): a screening still queued
   * for a connection when it fires is dropped with DEADLINE_EXCEEDED instead of being decided for nobody. A decision
   * already under way completes and commits, so a retry with the same key replays it.
   */
  async execute(
    idempotencyKey: string,
    input: ScreeningInput,
    actor: string,
    now: () => Date = () => new Date(),
    signal?: AbortSignal,
  ): Promise<complianceV1.ScreenResponse> {
    requireValid(itemChecks('', idempotencyKey, input));
    const [response] = await this.admission.run(signal, callerGone, () => this.decide([{ idempotencyKey, input }], actor, now));
    if (!response) throw new Error('ScreenHandler: a screening without a response');
    return response;
  }

  /**
   * ScreenBatch: 1..100 screenings with distinct keys, validated as Screen validates each (field paths `items[i].…`),
   * decided in one admission and one transaction; responses in request order. Already screened keys replay.
   */
  async executeBatch(
    items: readonly ScreenCommand[],
    actor: string,
    now: () => Date = () => new Date(),
    signal?: AbortSignal,
  ): Promise<complianceV1.ScreenResponse[]> {
    requireValid(batchChecks(items));
    return this.admission.run(signal, callerGone, () => this.decide(items, actor, now));
  }

  private async decide(items: readonly ScreenCommand[], actor: string, now: () => Date): Promise<complianceV1.ScreenResponse[]> {
    const started = process.hrtime.bigint();
    const { rules, matcher } = this.rules;
    const pending: PendingScreening[] = items.map(({ idempotencyKey, input }) => ({
      key: idempotencyKey,
      hash: requestHash({ ...input, counterpartyName: requestHash(input.counterpartyName) }),
      input,
    }));
    // Outside the transaction: the matcher is CPU only, the locks should be held for the database work alone.
    const sanctionsHits = new Map<string, SanctionsHit | undefined>(
      items.map(({ idempotencyKey, input }) => [
        idempotencyKey,
        input.counterpartyName ? matcher.bestMatch(input.counterpartyName, rules.screening.sanctions.reviewThreshold) : undefined,
      ]),
    );
    const at = now();
    // Captured here, outside the transaction callback: the RPC's span is the one the alerts link to.
    const traceId = activeTraceId();
    const results = await this.repository.decideAll(pending, windowsNeeded(rules), at, (stored, fresh, history) => {
      if (pending.some((p) => stored.has(p.key) && stored.get(p.key)?.requestHash !== p.hash)) throw keyReused();
      if (fresh.length === 0) return [];
      const movements = fresh.map((screening) => ({ screening, input: screening.input, sanctionsHit: sanctionsHits.get(screening.key) }));
      const evaluated = traceScreeningDecisions(rules.version, () => evaluateInOrder(rules, movements, history));
      const latencyMicros = Number((process.hrtime.bigint() - started) / 1000n);
      return evaluated.map(({ movement, outcome }) =>
        decided(movement.screening, outcome, { ruleVersion: rules.version, actor, at, latencyMicros, traceId }),
      );
    });
    const responses = results.map((r) => complianceV1.ScreenResponse.decode(r.response));
    this.logDecided(
      responses.filter((_, i) => results[i]?.replayed === false),
      responses.length,
    );
    return responses;
  }

  /** One line per call, not per screening: counts per decision and the reason codes that fired. */
  private logDecided(decided: complianceV1.ScreenResponse[], total: number): void {
    const [first] = decided;
    if (!first) return;
    const count = (d: complianceV1.Decision) => decided.filter((r) => r.decision === d).length;
    this.logger.info(
      {
        ...(decided.length === 1 ? { screeningId: first.screeningId, decision: complianceV1.decisionToJSON(first.decision) } : {}),
        decided: decided.length,
        replayed: total - decided.length,
        approved: count(complianceV1.Decision.DECISION_APPROVE),
        reviewed: count(complianceV1.Decision.DECISION_REVIEW),
        declined: count(complianceV1.Decision.DECISION_DECLINE),
        ruleVersion: first.ruleVersion,
        codes: [...new Set(decided.flatMap((r) => r.reasons.map((x) => x.code)))],
      },
      decided.length === 1 ? 'screening decided' : 'screenings decided',
    );
  }
}

/** The record (and the review alert of a REVIEW) of one decided screening; its response is what a retry replays. */
function decided(
  screening: PendingScreening,
  outcome: ScreeningOutcome,
  call: { ruleVersion: string; actor: string; at: Date; latencyMicros: number; traceId: string },
): DecidedScreening {
  const { input } = screening;
  const id = uuidv7(); // time-ordered: see docs/ids.md
  const response = complianceV1.ScreenResponse.fromPartial({
    screeningId: id,
    decision: complianceV1.decisionFromJSON(`DECISION_${outcome.decision}`),
    reasons: outcome.reasons,
    ruleVersion: call.ruleVersion,
    riskScore: outcome.riskScore,
  });
  const record = {
    id,
    ...outcome,
    ruleVersion: call.ruleVersion,
    actor: call.actor,
    decidedAt: call.at,
    latencyMicros: call.latencyMicros,
    response: complianceV1.ScreenResponse.encode(response).finish(),
  };
  if (outcome.decision !== 'REVIEW') return { screening, record };
  const alert: NewAlert = {
    dedupeKey: `screening:${id}`,
    ruleId: outcome.reasons[0]?.ruleId ?? 'screening.review',
    ruleVersion: call.ruleVersion,
    severity: outcome.reasons.some((r) => r.code === 'COMPLIANCE.SANCTIONS_MATCH') ? 'HIGH' : 'MEDIUM',
    accountId: input.sourceAccountId,
    transferIds: input.referenceId ? [input.referenceId] : [],
    reasons: outcome.reasons,
    ...(input.referenceId !== '' ? { heldTransferId: input.referenceId } : {}),
    traceId: call.traceId,
  };
  return { screening, record, alert };
}

/** Screen's checks of one screening; `prefix` places them in a batch (`items[3].`). */
function itemChecks(prefix: string, idempotencyKey: string, input: ScreeningInput): Array<[boolean, string, string]> {
  const checks: Array<[boolean, string, string]> = [
    [isKey(idempotencyKey), 'idempotency_key', '8..128 characters'],
    [input.ownerId !== '', 'subject.owner_id', 'required'],
    [input.sourceAccountId !== '', 'subject.source_account_id', 'required'],
    [input.destinationAccountId !== '', 'subject.destination_account_id', 'required'],
    [input.amountMinor > 0n && input.amountMinor <= MAX_AMOUNT, 'subject.amount.amount_minor', 'must be a positive int64'],
    [/^[A-Z]{3}$/.test(input.currency), 'subject.amount.currency', 'must be an ISO 4217 code'],
    [
      input.counterpartyCountry === '' || /^[A-Za-z]{2}$/.test(input.counterpartyCountry),
      'subject.counterparty_country',
      'must be ISO 3166-1 alpha-2',
    ],
    [input.counterpartyName.length <= 512, 'subject.counterparty_name', 'at most 512 characters'],
  ];
  return checks.map(([ok, field, description]) => [ok, `${prefix}${field}`, description]);
}

/** ScreenBatch's checks: the item count, every item as Screen checks it, and distinct keys. */
export function batchChecks(items: readonly ScreenCommand[]): Array<[boolean, string, string]> {
  if (items.length === 0 || items.length > MAX_BATCH_ITEMS) return [[false, 'items', `1..${MAX_BATCH_ITEMS} screenings`]];
  const firstAt = new Map<string, number>();
  return items.flatMap(({ idempotencyKey, input }, i) => {
    const first = firstAt.get(idempotencyKey) ?? i;
    firstAt.set(idempotencyKey, first);
    return [
      ...itemChecks(`items[${i}].`, idempotencyKey, input),
      [first === i, `items[${i}].idempotency_key`, `same key as items[${first}]`] as [boolean, string, string],
    ];
  });
}

const keyReused = () =>
  new AppError({
    code: 'COMPLIANCE.IDEMPOTENCY_KEY_REUSED',
    kind: 'FAILED_PRECONDITION',
    message: 'idempotency key was used for a different screening',
  });

const callerGone = () =>
  new AppError({
    code: 'COMPLIANCE.CALLER_GONE',
    kind: 'DEADLINE_EXCEEDED',
    message: 'The caller cancelled or its deadline passed while the screening waited; nothing was decided',
  });
