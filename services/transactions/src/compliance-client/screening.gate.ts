import { Injectable } from '@nestjs/common';
import { withSerializableRetry } from '@tessera/db';
import { isAppError } from '@tessera/errors';
import { LedgerJournal } from '../journal/ledger-journal';
import { ledgerErrors } from '../ledger/ledger.errors';
import { PrismaService } from '../platform/prisma.provider';
import { ComplianceClient } from './compliance.client';
import { decisionPayload, type Screening, type ScreeningSubject } from './screening';

/**
 * Screening on the money path: a decision, or a refusal that is itself audited. When compliance gives
 * no decision, `transfer.screening_failed` is appended in its own small transaction (the movement's
 * own transaction never starts), then the fail-closed error propagates.
 */
@Injectable()
export class ScreeningGate {
  constructor(
    private readonly compliance: ComplianceClient,
    private readonly journal: LedgerJournal,
    private readonly prisma: PrismaService,
  ) {}

  async screen(idempotencyKey: string, subject: ScreeningSubject): Promise<Screening> {
    try {
      return await this.compliance.screen(idempotencyKey, subject);
    } catch (err) {
      throw await this.failed(err, subject.movementKind === 'hold' ? 'hold' : 'transfer', subject.referenceId, {
        movementKind: subject.movementKind,
        amountMinor: subject.amountMinor.toString(),
        currency: subject.currency,
      });
    }
  }

  /**
   * A whole batch in one ScreenBatch call; decisions in item order. When no decision arrives, one
   * `transfer.screening_failed` record for the batch (entity `batch`, `batchId`) is appended, then the error propagates.
   */
  async screenBatch(batchId: string, items: { idempotencyKey: string; subject: ScreeningSubject }[]): Promise<Screening[]> {
    try {
      return await this.compliance.screenBatch(items);
    } catch (err) {
      throw await this.failed(err, 'batch', batchId, { movementKind: 'batch', transfers: items.length });
    }
  }

  /** Audits a screening that gave no decision (fail-closed) and returns the error to rethrow. */
  private async failed(
    err: unknown,
    entityType: 'hold' | 'transfer' | 'batch',
    entityId: string,
    details: Record<string, unknown>,
  ): Promise<unknown> {
    if (isAppError(err) && err.code === ledgerErrors.idempotencyKeyReused().code) return err; // the caller's mistake, not a screening failure
    const cause = isAppError(err) ? (err.metadata['cause'] ?? err.code) : 'UNKNOWN';
    const actor = this.journal.actor();
    await withSerializableRetry(() =>
      this.prisma.client.$transaction((tx) =>
        this.journal.record(
          tx,
          { action: 'transfer.screening_failed', entityType, entityId, payload: { cause, ...details, outcome: 'refused (fail-closed)' } },
          actor,
        ),
      ),
    );
    return err;
  }

  /** Audits a decision that stops a movement before its transaction (hold or batch declined) in its own transaction. */
  async auditRefusal(screening: Screening, subject: ScreeningSubject): Promise<void> {
    const actor = this.journal.actor();
    await withSerializableRetry(() =>
      this.prisma.client.$transaction((tx) =>
        this.journal.record(
          tx,
          {
            action: 'compliance.decision',
            entityType: subject.movementKind === 'hold' ? 'hold' : 'transfer',
            entityId: subject.referenceId,
            payload: decisionPayload(screening, subject),
          },
          actor,
        ),
      ),
    );
  }
}
