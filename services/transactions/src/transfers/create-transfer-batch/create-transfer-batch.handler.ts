import { Injectable } from '@nestjs/common';
import { paymentsV1 } from '@tessera/contracts';
import type { AppError, FieldViolation } from '@tessera/errors';
import type { Prisma } from '../../generated/prisma/client';
import { LedgerJournal } from '../../journal/ledger-journal';
import type { Screening } from '../../compliance-client/screening';
import { ScreeningGate } from '../../compliance-client/screening.gate';
import { HoldExpiry } from '../../holds/hold-expiry';
import { idempotentId } from '../../idempotency/idempotent-id';
import { callerScope, IdempotencyStore, type IdempotentResult } from '../../idempotency/idempotency';
import { assertActive, assertCurrency } from '../../ledger/account';
import { fingerprint, validateIdempotencyKey } from '../../ledger/ledger';
import { instructionViolations, MAX_BATCH, type TransferInstruction, type ValidInstruction } from '../transfer';
import { ledgerErrors } from '../../ledger/ledger.errors';
import { transferToProto } from '../transfer.mapping';
import { TransferPoster } from '../transfer.poster';
import { LedgerRepository } from '../../ledger/ledger.repository';
import { settleBoth } from '../../ledger/settle';
import { PiiVault } from '../../pii/pii-vault';
import { LedgerMetrics } from '../../ledger/ledger.metrics';

const SCOPE = 'payments.CreateTransferBatch';
/**
 * All or nothing: every instruction is screened first, in one ScreenBatch call, and must be APPROVED (a batch
 * cannot be half-held for review), then all are posted in one transaction in request order with one statement per
 * table (TransferPoster.applyDirectMany); any failure rolls back the whole batch.
 */
@Injectable()
export class CreateTransferBatchHandler {
  private readonly metrics = new LedgerMetrics();

  constructor(
    private readonly idempotency: IdempotencyStore,
    private readonly ledger: LedgerRepository,
    private readonly gate: ScreeningGate,
    private readonly poster: TransferPoster,
    private readonly holdExpiry: HoldExpiry,
    private readonly vault: PiiVault,
    private readonly journal: LedgerJournal,
  ) {}

  async execute(
    idempotencyKey: string,
    instructions: TransferInstruction[],
  ): Promise<IdempotentResult<paymentsV1.CreateTransferBatchResponse>> {
    validateIdempotencyKey(idempotencyKey);
    const violations: FieldViolation[] = [];
    if (instructions.length === 0 || instructions.length > MAX_BATCH)
      violations.push({ field: 'transfers', description: `1 to ${MAX_BATCH} transfers` });
    instructions.slice(0, MAX_BATCH).forEach((t, i) => instructionViolations(t, `transfers[${i}]`, violations));
    if (violations.length > 0) throw ledgerErrors.invalid(violations);
    const batch = instructions as ValidInstruction[];
    // Keys are the caller's own (callerScope): so are the ids and screening keys derived from them.
    const scope = callerScope(SCOPE);
    const batchId = idempotentId(scope, idempotencyKey, 'batch');
    const call = {
      scope,
      key: idempotencyKey,
      fingerprint: fingerprint(batch),
      codec: paymentsV1.CreateTransferBatchResponse,
      oneWriteStatement: true,
      refusals: {
        audit: (tx: Prisma.TransactionClient, refusal: AppError) => this.journal.recordRefusal(tx, 'batch', batchId, refusal, ''),
      },
    };
    const accountIds = batch.flatMap((t) => [t.sourceAccountId, t.destinationAccountId]);
    // The replay check and the early account read in parallel; a replay wins over whatever the account read found.
    const [replay, read] = await settleBoth(this.idempotency.peek(call), this.ledger.readAccounts(accountIds));
    if (replay.status === 'rejected') throw replay.reason;
    if (replay.value) return { response: replay.value, replayed: true };
    if (read.status === 'rejected') throw read.reason;
    const accounts = read.value;
    for (const t of batch) {
      for (const id of [t.sourceAccountId, t.destinationAccountId]) {
        const account = accounts.get(id);
        if (!account) throw ledgerErrors.accountNotFound(id);
        assertActive(account);
        assertCurrency(account, t.amount.currency);
      }
    }
    const ids = batch.map((_, i) => idempotentId(scope, idempotencyKey, String(i)));
    // One ScreenBatch call for the whole batch (it was one Screen per transfer: a 50-transfer batch overran the
    // gateway's deadline). Compliance decides the items in order, each seeing the ones before it, exactly as
    // sequential Screens would; each item keeps its own screening key, so a retry replays the decisions made.
    const subjects = batch.map((t, i) => ({
      referenceId: ids[i] ?? '',
      sourceAccountId: t.sourceAccountId,
      destinationAccountId: t.destinationAccountId,
      amountMinor: t.amount.amountMinor,
      currency: t.amount.currency,
      ownerId: accounts.get(t.sourceAccountId)?.ownerId ?? '',
      counterpartyName: t.counterparty?.name ?? '',
      counterpartyCountry: t.counterparty?.country ?? '',
      movementKind: 'batch' as const,
    }));
    const screenings = await this.gate.screenBatch(
      batchId,
      subjects.map((subject, i) => ({ idempotencyKey: `${SCOPE}:${batchId}:${i}`, subject })),
    );
    const refused = screenings.findIndex((s) => s.decision !== 'APPROVE');
    if (refused >= 0) {
      const screening = screenings[refused] as Screening;
      await this.gate.auditRefusal(screening, subjects[refused] as (typeof subjects)[number]);
      throw ledgerErrors.batchNotApproved(refused, screening.decision, screening.screeningId);
    }
    const sealed = batch.map((t) => (t.counterparty?.name ? this.vault.seal(t.counterparty) : undefined));
    const result = await this.idempotency.transact(call, async (tx) => {
      const locked = await this.holdExpiry.lockAndRelease(tx, accountIds);
      const transfers = await this.poster.applyDirectMany(
        tx,
        locked,
        batch.map((instruction, i) => {
          const sealedCounterparty = sealed[i];
          return {
            id: ids[i] ?? idempotentId(scope, idempotencyKey, String(i)),
            instruction,
            screening: screenings[i] as Screening,
            movementKind: 'batch' as const,
            batchId,
            ...(sealedCounterparty ? { sealedCounterparty } : {}),
          };
        }),
      );
      return { response: { batchId, transfers: transfers.map(transferToProto) } };
    });
    // After the commit, and not for replays: a rolled-back or repeated request counts nothing.
    if (!result.replayed) this.metrics.record(result.response.transfers);
    return result;
  }
}
