import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { complianceV1 } from '@tessera/contracts';
import { isAppError } from '@tessera/errors';
import { createGrpcClient, grpcTransportFromEnv, unaryCall } from '@tessera/grpc';
import { createLogger } from '@tessera/telemetry';
import { type TransactionsConfig, TRANSACTIONS_CONFIG } from '../config';
import { ledgerErrors } from '../ledger/ledger.errors';
import type { Screening, ScreeningDecision, ScreeningSubject } from './screening';

const DECISIONS: Record<number, ScreeningDecision | undefined> = {
  [complianceV1.Decision.DECISION_APPROVE]: 'APPROVE',
  [complianceV1.Decision.DECISION_REVIEW]: 'REVIEW',
  [complianceV1.Decision.DECISION_DECLINE]: 'DECLINE',
};

/**
 * Calls ComplianceService.Screen with a hard deadline. Fail-closed: anything but a well-formed
 * decision (unreachable, deadline passed, an error status, an unknown decision) becomes
 * PAYMENTS.COMPLIANCE_UNAVAILABLE, so no money moves without an explicit approval.
 */
@Injectable()
export class ComplianceClient implements OnApplicationShutdown {
  private readonly logger = createLogger('ComplianceClient');
  private readonly client: complianceV1.ComplianceServiceClient;
  private readonly deadlineMs: number;
  private readonly batchDeadlineMs: number;

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
  }

  /** @throws AppError PAYMENTS.COMPLIANCE_UNAVAILABLE (kind UNAVAILABLE) when no decision arrives in time. */
  async screen(idempotencyKey: string, subject: ScreeningSubject): Promise<Screening> {
    const response = await this.call(subject.referenceId, () => unaryCall(this.client, 'screen', screenRequest(idempotencyKey, subject), { deadlineMs: this.deadlineMs }));
    return this.decisionOf(response, subject.referenceId);
  }

  /**
   * One ScreenBatch call for a whole batch (issue #10: one screening call per batch request): decisions in request
   * order, each as if screened one after another. Same fail-closed rule as `screen`; the deadline is
   * TRANSACTIONS_SCREEN_BATCH_DEADLINE_MS, since one call decides up to 100 movements.
   */
  async screenBatch(items: { idempotencyKey: string; subject: ScreeningSubject }[]): Promise<Screening[]> {
    const first = items[0]?.subject.referenceId ?? '';
    const response = await this.call(first, () =>
      unaryCall(this.client, 'screenBatch', complianceV1.ScreenBatchRequest.fromPartial({ items: items.map((i) => screenRequest(i.idempotencyKey, i.subject)) }), {
        deadlineMs: this.batchDeadlineMs,
      }),
    );
    if (response.items.length !== items.length) {
      this.logger.warn({ expected: items.length, got: response.items.length, referenceId: first }, 'malformed screening response; refusing (fail-closed)');
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
