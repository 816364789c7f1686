import { Injectable } from '@nestjs/common';
import { paymentsV1 } from '@tessera/contracts';
import { ScreeningGate } from '../../compliance-client/screening.gate';
import { idempotentId } from '../../idempotency/idempotent-id';
import { callerScope, type IdempotentResult } from '../../idempotency/idempotency';
import { assertActive, assertCurrency } from '../../ledger/account';
import { fingerprint, validateIdempotencyKey } from '../../ledger/ledger';
import { type TransferInstruction, validateInstruction } from '../transfer';
import { PiiVault } from '../../pii/pii-vault';
import { tagTransferSpan } from '../transfer.tracing';
import { LedgerMetrics } from '../../ledger/ledger.metrics';
import { LedgerJournal } from '../../journal/ledger-journal';
import type { AppError } from '@tessera/errors';
import type { Prisma } from '../../generated/prisma/client';
import { PostingCoalescer } from './posting.coalescer';
import { PreflightCoalescer } from './preflight.coalescer';

const SCOPE = 'payments.CreateTransfer';

/**
 * Screens, then posts (APPROVE), holds for review (REVIEW) or records as DECLINED, in one transaction
 * with its idempotency record, audit records and outbox event. Cheap checks run before screening so a
 * request that can't succeed writes nothing and costs compliance nothing.
 */
@Injectable()
export class CreateTransferHandler {
  private readonly metrics = new LedgerMetrics();

  constructor(
    private readonly gate: ScreeningGate,
    private readonly preflight: PreflightCoalescer,
    private readonly posting: PostingCoalescer,
    private readonly vault: PiiVault,
    private readonly journal: LedgerJournal,
  ) {}

  async execute(idempotencyKey: string, instruction: TransferInstruction): Promise<IdempotentResult<paymentsV1.CreateTransferResponse>> {
    validateIdempotencyKey(idempotencyKey);
    const ins = validateInstruction(instruction);
    // Keys are the caller's own (callerScope): so are the transfer id and the screening key derived from it.
    const scope = callerScope(SCOPE);
    const id = idempotentId(scope, idempotencyKey);
    const call = {
      scope,
      key: idempotencyKey,
      fingerprint: fingerprint(ins),
      codec: paymentsV1.CreateTransferResponse,
      oneWriteStatement: true,
      refusals: {
        audit: (tx: Prisma.TransactionClient, refusal: AppError) => this.journal.recordRefusal(tx, 'transfer', id, refusal, screeningId),
      },
    };
    let screeningId = '';
    // The replay check and the early account read, shared with the transfers arriving at the same time (see
    // PreflightCoalescer); a replay wins over whatever the account read found.
    const [replay, accounts] = await this.preflight.read(call, [ins.sourceAccountId, ins.destinationAccountId]);
    if (replay.status === 'rejected') throw replay.reason;
    if (replay.value) return { response: replay.value, replayed: true };
    if (accounts.status === 'rejected') throw accounts.reason;
    for (const account of accounts.value.values()) {
      assertActive(account);
      assertCurrency(account, ins.amount.currency);
    }
    tagTransferSpan(id, ins.sourceAccountId, ins.amount.currency);
    const screening = await this.gate.screen(`${SCOPE}:${id}`, {
      referenceId: id,
      sourceAccountId: ins.sourceAccountId,
      destinationAccountId: ins.destinationAccountId,
      amountMinor: ins.amount.amountMinor,
      currency: ins.amount.currency,
      ownerId: accounts.value.get(ins.sourceAccountId)?.ownerId ?? '',
      counterpartyName: ins.counterparty?.name ?? '',
      counterpartyCountry: ins.counterparty?.country ?? '',
      movementKind: 'transfer',
    });
    screeningId = screening.screeningId;
    const sealed = ins.counterparty?.name ? this.vault.seal(ins.counterparty) : undefined;
    // Posted with the transfers that arrive at the same time, in one transaction (see PostingCoalescer).
    const result = await this.posting.post({ call, id, instruction: ins, screening, ...(sealed ? { sealedCounterparty: sealed } : {}) });
    // After the commit, and not for replays: a rolled-back or repeated request counts nothing.
    if (!result.replayed) this.metrics.record([result.response.transfer]);
    return result;
  }
}
