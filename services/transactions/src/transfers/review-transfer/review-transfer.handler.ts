import { Injectable } from '@nestjs/common';
import { principalOf } from '@tessera/auth';
import { currentCallContext } from '@tessera/grpc';
import { paymentsV1 } from '@tessera/contracts';
import { isUuid } from '../../ledger/ledger';
import { HoldExpiry } from '../../holds/hold-expiry';
import { IdempotencyStore, type IdempotentResult, LEDGER_TX_OPTIONS } from '../../idempotency/idempotency';
import { assertActive } from '../../ledger/account';
import { fingerprint, MAX_TEXT, validateIdempotencyKey } from '../../ledger/ledger';
import { ledgerErrors } from '../../ledger/ledger.errors';
import { LedgerJournal } from '../../journal/ledger-journal';
import { transferToProto } from '../transfer.mapping';
import { TransferRepository } from '../transfer.repository';
import { LedgerRepository } from '../../ledger/ledger.repository';
import { LedgerMetrics } from '../../ledger/ledger.metrics';
import type { Prisma } from '../../generated/prisma/client';
import { PrismaService } from '../../platform/prisma.provider';

export interface ReleaseCommand {
  idempotencyKey: string;
  transferId: string;
  approvedBy: string[];
  note: string;
  alertId: string;
}

export interface ApproveCommand {
  transferId: string;
  alertId: string;
  note: string;
}

export interface DeclineCommand {
  idempotencyKey: string;
  transferId: string;
  declinedBy: string;
  note: string;
  alertId: string;
}

/**
 * The outcome of a compliance review of a PENDING transfer (its amount sits in the source's held
 * balance): release posts it (four-eyes: two distinct approvers), decline releases the funds.
 *
 * Four-eyes is proven here, not asserted by the caller (issue #13): each reviewer's approval is recorded by `approve`
 * under the reviewer's own credential, which compliance forwards and this service verifies; `release` counts only
 * those records. A stolen compliance certificate alone can call ReleaseTransfer but cannot make an approval.
 */
@Injectable()
export class ReviewTransferHandler {
  private readonly metrics = new LedgerMetrics();

  constructor(
    private readonly idempotency: IdempotencyStore,
    private readonly ledger: LedgerRepository,
    private readonly transferRepository: TransferRepository,
    private readonly journal: LedgerJournal,
    private readonly holdExpiry: HoldExpiry,
    private readonly prisma: PrismaService,
  ) {}

  /**
   * Records the calling reviewer's approval to release a held transfer (idempotent per reviewer: a retry records
   * nothing new) and returns every approver recorded so far, oldest first. The reviewer is the verified principal of
   * the call, never a request field.
   */
  async approve(cmd: ApproveCommand): Promise<string[]> {
    if (!isUuid(cmd.transferId)) throw ledgerErrors.malformedId('transfer_id');
    if (cmd.note.length > MAX_TEXT) throw ledgerErrors.invalid([{ field: 'note', description: `must be at most ${MAX_TEXT} characters` }]);
    const approver = principalOf(currentCallContext()).subject;
    return this.prisma.client.$transaction(async (tx) => {
      const held = await this.transferRepository.lockTransfer(tx, cmd.transferId);
      const recorded = async () => approversOf(tx, held.id);
      if (held.status !== 'PENDING') {
        // A retry after the release went through: the approval is there already.
        const approvers = await recorded();
        if (approvers.includes(approver)) return approvers;
        throw ledgerErrors.transferNotPending(held.id, held.status);
      }
      const inserted = await tx.releaseApproval.createMany({
        data: [{ transferId: held.id, approver, alertId: cmd.alertId, note: cmd.note }],
        skipDuplicates: true,
      });
      if (inserted.count > 0) {
        await this.journal.record(tx, {
          action: 'transfer.release_approved',
          entityType: 'transfer',
          entityId: held.id,
          payload: { alertId: cmd.alertId, note: cmd.note },
        });
      }
      return recorded();
    }, LEDGER_TX_OPTIONS);
  }

  async release(cmd: ReleaseCommand): Promise<IdempotentResult<paymentsV1.ReleaseTransferResponse>> {
    this.validate(cmd);
    const asserted = [...new Set(cmd.approvedBy.map((a) => a.trim()).filter(Boolean))].sort();
    const call = {
      scope: 'payments.ReleaseTransfer',
      key: cmd.idempotencyKey,
      fingerprint: fingerprint({ ...cmd, approvedBy: asserted, idempotencyKey: '' }),
      codec: paymentsV1.ReleaseTransferResponse,
    };
    const result = await this.idempotency.transact(call, async (tx) => {
      const held = await this.transferRepository.lockTransfer(tx, cmd.transferId);
      if (held.status !== 'PENDING') throw ledgerErrors.transferNotPending(held.id, held.status);
      // Only approvals recorded with the reviewers' own credentials count (approve), whatever the caller lists.
      const approvers = await approversOf(tx, held.id);
      if (new Set(approvers).size < 2) throw ledgerErrors.fourEyesRequired();
      const accounts = await this.holdExpiry.lockAndRelease(tx, [held.sourceAccountId, held.destinationAccountId]);
      const source = accounts.get(held.sourceAccountId);
      const destination = accounts.get(held.destinationAccountId);
      if (!source || !destination) throw new Error('accounts not locked');
      assertActive(source);
      assertActive(destination);
      // Reserved -> posted: available is unchanged, so the funds check already passed when it was held.
      await this.ledger.adjust(tx, source, { held: -held.amountMinor });
      await this.ledger.writePostings(tx, held, source, destination);
      const posted = await this.transferRepository.updateTransferStatus(tx, held.id, 'POSTED', { postedAt: new Date() });
      await this.journal.record(tx, {
        action: 'transfer.released',
        entityType: 'transfer',
        entityId: held.id,
        payload: {
          approvedBy: approvers,
          alertId: cmd.alertId,
          note: cmd.note,
          amountMinor: held.amountMinor.toString(),
          currency: held.currency,
        },
        event: {
          key: source.id,
          message: { transfer: transferToProto(posted), approvedBy: approvers, alertId: cmd.alertId },
          codec: paymentsV1.TransferReleased,
        },
      });
      return { response: { transfer: transferToProto(posted) }, transferId: held.id };
    });
    // After the commit, and not for replays: a rolled-back or repeated request counts nothing.
    if (!result.replayed) this.metrics.record([result.response.transfer]);
    return result;
  }

  async decline(cmd: DeclineCommand): Promise<IdempotentResult<paymentsV1.DeclineHeldTransferResponse>> {
    this.validate(cmd);
    if (cmd.declinedBy.trim() === '') throw ledgerErrors.invalid([{ field: 'declined_by', description: 'is required' }]);
    const call = {
      scope: 'payments.DeclineHeldTransfer',
      key: cmd.idempotencyKey,
      fingerprint: fingerprint({ ...cmd, idempotencyKey: '' }),
      codec: paymentsV1.DeclineHeldTransferResponse,
    };
    const result = await this.idempotency.transact(call, async (tx) => {
      const held = await this.transferRepository.lockTransfer(tx, cmd.transferId);
      if (held.status !== 'PENDING') throw ledgerErrors.transferNotPending(held.id, held.status);
      const accounts = await this.ledger.lockAccounts(tx, [held.sourceAccountId]);
      const source = accounts.get(held.sourceAccountId);
      if (!source) throw new Error('account not locked');
      await this.ledger.adjust(tx, source, { held: -held.amountMinor });
      const declined = await this.transferRepository.updateTransferStatus(tx, held.id, 'DECLINED', {
        rejectionCode: 'COMPLIANCE.DECLINED_ON_REVIEW',
      });
      await this.journal.record(tx, {
        action: 'transfer.declined',
        entityType: 'transfer',
        entityId: held.id,
        payload: {
          declinedBy: cmd.declinedBy,
          alertId: cmd.alertId,
          note: cmd.note,
          amountMinor: held.amountMinor.toString(),
          currency: held.currency,
        },
        event: {
          key: source.id,
          message: { transfer: transferToProto(declined), declinedBy: cmd.declinedBy, alertId: cmd.alertId },
          codec: paymentsV1.TransferDeclined,
        },
      });
      return { response: { transfer: transferToProto(declined) }, transferId: held.id };
    });
    // After the commit, not for replays.
    if (!result.replayed) this.metrics.record([result.response.transfer]);
    return result;
  }

  private validate(cmd: { idempotencyKey: string; transferId: string; note: string }): void {
    validateIdempotencyKey(cmd.idempotencyKey);
    if (!isUuid(cmd.transferId)) throw ledgerErrors.malformedId('transfer_id');
    if (cmd.note.length > MAX_TEXT) throw ledgerErrors.invalid([{ field: 'note', description: `must be at most ${MAX_TEXT} characters` }]);
  }
}

/** The reviewers whose approval to release `transferId` is recorded, oldest first. */
async function approversOf(tx: Prisma.TransactionClient, transferId: string): Promise<string[]> {
  const rows = await tx.releaseApproval.findMany({
    where: { transferId },
    orderBy: [{ approvedAt: 'asc' }, { approver: 'asc' }],
    select: { approver: true },
  });
  return rows.map((r) => r.approver);
}
