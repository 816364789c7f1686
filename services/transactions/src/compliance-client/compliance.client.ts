import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { complianceV1 } from '@tessera/contracts';
import { type Span, trace } from '@opentelemetry/api';
import { Coalescer, linkToActiveSpan } from '@tessera/db';
import { isAppError } from '@tessera/errors';
import { createGrpcClient, currentCallContext, grpcTransportFromEnv, unaryCall } from '@tessera/grpc';
import { createLogger } from '@tessera/telemetry';
import { AsyncLocalStorage } from 'node:async_hooks';
import { type TransactionsConfig, TRANSACTIONS_CONFIG } from '../config';
import { ledgerErrors } from '../ledger/ledger.errors';
import type { Screening, ScreeningDecision, ScreeningSubject } from './screening';

const DECISIONS: Record<number, ScreeningDecision | undefined> = {
  [complianceV1.Decision.DECISION_APPROVE]: 'APPROVE',
  [complianceV1.Decision.DECISION_REVIEW]: 'REVIEW',
  [complianceV1.Decision.DECISION_DECLINE]: 'DECLINE',
};

interface ScreenItem {
  idempotencyKey: string;
  subject: ScreeningSubject;
}

/** A screening waiting in the coalescer, with the call it belongs to. */
interface QueuedScreening extends ScreenItem {
  /** The end-user credential the call forwards (compliance verifies it and records its subject as the actor). */
  credential: string;
  /** Runs a function in the screening's own async context (its call context, its trace). */
  inContext: <T>(fn: () => T) => T;
  /** Its transfer's span, linked to the span the shared call ran under. */
  span: Span | undefined;
}

/**
 * Calls ComplianceService.Screen with a hard deadline. Fail-closed: anything but a well-formed
 * decision (unreachable, deadline passed, an error status, an unknown decision) becomes
 * PAYMENTS.COMPLIANCE_UNAVAILABLE, so no money moves without an explicit approval.
 *
 * Concurrent movements share calls (issue #10): `screen` goes through a Coalescer, so a screening that arrives while
 * TRANSACTIONS_SCREEN_IN_FLIGHT calls are out waits and goes with the others in one ScreenBatch call (one compliance
 * transaction, one commit) when one returns; an idle service sends it at once as a Screen call. Compliance decides a
 * batch's items in order, each exactly as a Screen call would after the ones before it, so a decision is the same
 * as if the movements had been screened one by one in arrival order. A refusal of the whole call that one item can
 * cause (a reused key, an invalid item) is never passed to the others: each item is then screened alone. Only
 * screenings forwarding the same end-user credential share a call (compliance records the verified user of a call as
 * the actor of its decisions); transfers sent under one operator or service credential coalesce, one customer's
 * concurrent transfers too, different customers' do not.
 */
@Injectable()
export class ComplianceClient implements OnApplicationShutdown {
  private readonly logger = createLogger('ComplianceClient');
  private readonly client: complianceV1.ComplianceServiceClient;
  private readonly deadlineMs: number;
  private readonly batchDeadlineMs: number;
  private readonly coalescer: Coalescer<QueuedScreening, Screening>;

  constructor(@Inject(TRANSACTIONS_CONFIG) config: TransactionsConfig) {
    this.deadlineMs = config.TRANSACTIONS_SCREEN_DEADLINE_MS;
    this.batchDeadlineMs = config.TRANSACTIONS_SCREEN_BATCH_DEADLINE_MS;
    // Screen is idempotent on its key, so the channel may retry UNAVAILABLE within the deadline.
    this.client = createGrpcClient(complianceV1.ComplianceServiceClient, config.COMPLIANCE_ADDR, {
      transport: grpcTransportFromEnv('transactions'),
      retry: 'idempotent',
      idempotentMethods: ['screen', 'screenBatch'],
      retryPolicy: { initialBackoffMs: 50, maxBackoffMs: 200 },
      defaultDeadlineMs: this.deadlineMs,
    });
    this.coalescer = new Coalescer({
      maxBatch: config.TRANSACTIONS_SCREEN_COALESCE_MAX,
      maxInFlight: config.TRANSACTIONS_SCREEN_IN_FLIGHT,
      run: (items) => this.screenByCredential(items),
      linkTraces: false, // per credential group, below
    });
  }

  /** @throws AppError PAYMENTS.COMPLIANCE_UNAVAILABLE (kind UNAVAILABLE) when no decision arrives in time. */
  screen(idempotencyKey: string, subject: ScreeningSubject): Promise<Screening> {
    const ctx = currentCallContext();
    const credential = `${ctx?.authorization ?? ''}\u0000${ctx?.apiKey ?? ''}`;
    return this.coalescer.submit({
      idempotencyKey,
      subject,
      credential,
      inContext: AsyncLocalStorage.snapshot(),
      span: trace.getActiveSpan(),
    });
  }

  /**
   * The screenings that arrived together, one call per forwarded credential, under the context of its first
   * screening: compliance verifies the credential a call forwards and records its subject as the actor of every
   * decision of the call, so screenings of different users never share one (transfers sent with one operator or
   * service credential do).
   */
  private async screenByCredential(items: readonly QueuedScreening[]): Promise<Array<Screening | Error>> {
    const groups = new Map<string, number[]>();
    items.forEach((item, i) => groups.set(item.credential, [...(groups.get(item.credential) ?? []), i]));
    const results: Array<Screening | Error> = new Array<Screening | Error>(items.length);
    await Promise.all(
      [...groups.values()].map(async (group) => {
        const first = items[group[0] as number] as QueuedScreening;
        const decided = await first.inContext(() => {
          linkToActiveSpan(group.slice(1).map((i) => items[i]?.span));
          return this.screenTogether(group.map((i) => items[i] as QueuedScreening));
        });
        group.forEach((i, n) => (results[i] = decided[n] as Screening | Error));
      }),
    );
    return results;
  }

  /** One Screen call. */
  private async screenOne({ idempotencyKey, subject }: ScreenItem): Promise<Screening> {
    const response = await this.call(subject.referenceId, () =>
      unaryCall(this.client, 'screen', screenRequest(idempotencyKey, subject), { deadlineMs: this.deadlineMs }),
    );
    return this.decisionOf(response, subject.referenceId);
  }

  /**
   * The screenings that arrived together: one Screen call for one, else one ScreenBatch call under the Screen
   * deadline (a coalesced call holds at most TRANSACTIONS_SCREEN_COALESCE_MAX movements). A key already in the call
   * (the same request retried in parallel) is screened alone after it, so compliance replays the first decision or
   * refuses a different body. When the call is refused as a whole for a reason one item can cause, each item is
   * screened alone, so only that item gets the refusal; an unavailable compliance refuses them all (fail-closed).
   */
  private async screenTogether(items: readonly ScreenItem[]): Promise<Array<Screening | Error>> {
    const keys = new Set<string>();
    const first: number[] = [];
    const repeats: number[] = [];
    items.forEach((item, i) => {
      (keys.has(item.idempotencyKey) ? repeats : first).push(i);
      keys.add(item.idempotencyKey);
    });
    const alone = (i: number) => this.screenOne(items[i] as ScreenItem).catch((err: unknown) => asError(err));
    const results: Array<Screening | Error> = new Array<Screening | Error>(items.length);
    if (first.length === 1) {
      results[first[0] as number] = await alone(first[0] as number);
    } else {
      try {
        const decided = await this.screenMany(
          first.map((i) => items[i] as ScreenItem),
          this.deadlineMs,
        );
        first.forEach((i, n) => (results[i] = decided[n] as Screening));
      } catch (err) {
        if (!oneItemCanCause(err)) {
          for (const i of first) results[i] = asError(err);
        } else {
          const each = await Promise.all(first.map(alone));
          first.forEach((i, n) => (results[i] = each[n] as Screening | Error));
        }
      }
    }
    for (const i of repeats) results[i] = await alone(i);
    return results;
  }

  /**
   * One ScreenBatch call for a whole batch (issue #10: one screening call per batch request): decisions in request
   * order, each as if screened one after another. Same fail-closed rule as `screen`; the deadline is
   * TRANSACTIONS_SCREEN_BATCH_DEADLINE_MS, since one call decides up to 100 movements.
   */
  screenBatch(items: ScreenItem[]): Promise<Screening[]> {
    return this.screenMany(items, this.batchDeadlineMs);
  }

  private async screenMany(items: readonly ScreenItem[], deadlineMs: number): Promise<Screening[]> {
    const first = items[0]?.subject.referenceId ?? '';
    const response = await this.call(first, () =>
      unaryCall(
        this.client,
        'screenBatch',
        complianceV1.ScreenBatchRequest.fromPartial({ items: items.map((i) => screenRequest(i.idempotencyKey, i.subject)) }),
        {
          deadlineMs,
        },
      ),
    );
    if (response.items.length !== items.length) {
      this.logger.warn(
        { expected: items.length, got: response.items.length, referenceId: first },
        'malformed screening response; refusing (fail-closed)',
      );
      throw ledgerErrors.complianceUnavailable('MALFORMED_DECISION');
    }
    return response.items.map((r, i) => this.decisionOf(r, items[i]?.subject.referenceId ?? ''));
  }

  private async call<T>(referenceId: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (err) {
      // The screening key derives from this request's idempotency key and the screened subject from its body and
      // its deterministic reference id: compliance refusing the key means the caller reused the key for another body.
      if (isAppError(err) && err.code === 'COMPLIANCE.IDEMPOTENCY_KEY_REUSED') throw ledgerErrors.idempotencyKeyReused();
      const cause = isAppError(err) ? err.code : 'UNKNOWN';
      this.logger.warn({ cause, referenceId }, 'screening failed; refusing (fail-closed)');
      throw ledgerErrors.complianceUnavailable(cause);
    }
  }

  private decisionOf(response: complianceV1.ScreenResponse, referenceId: string): Screening {
    const decision = DECISIONS[response.decision];
    if (!decision || !response.screeningId) {
      this.logger.warn({ decision: response.decision, referenceId }, 'malformed screening response; refusing (fail-closed)');
      throw ledgerErrors.complianceUnavailable('MALFORMED_DECISION');
    }
    return {
      screeningId: response.screeningId,
      decision,
      reasons: response.reasons.map((r) => ({ code: r.code, ruleId: r.ruleId })),
      ruleVersion: response.ruleVersion,
      riskScore: response.riskScore,
    };
  }

  onApplicationShutdown(): void {
    this.client.close();
  }
}

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/** A refusal of a whole ScreenBatch call that a single item can cause: its key reused for another body, or invalid. */
function oneItemCanCause(err: unknown): boolean {
  if (!isAppError(err)) return false;
  if (err.code === ledgerErrors.idempotencyKeyReused().code) return true;
  return err.metadata['cause'] === 'COMPLIANCE.INVALID_REQUEST';
}

function screenRequest(idempotencyKey: string, subject: ScreeningSubject): complianceV1.ScreenRequest {
  return complianceV1.ScreenRequest.fromPartial({
    idempotencyKey,
    subject: {
      referenceId: subject.referenceId,
      sourceAccountId: subject.sourceAccountId,
      destinationAccountId: subject.destinationAccountId,
      amount: { amountMinor: subject.amountMinor, currency: subject.currency },
      requestedAt: new Date(),
      ownerId: subject.ownerId,
      counterpartyName: subject.counterpartyName,
      counterpartyCountry: subject.counterpartyCountry,
      movementKind: subject.movementKind,
    },
  });
}
