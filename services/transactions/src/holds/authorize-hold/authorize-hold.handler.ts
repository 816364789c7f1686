import { Injectable } from '@nestjs/common';
import { paymentsV1 } from '@tessera/contracts';
import type { AppError, FieldViolation } from '@tessera/errors';
import type { Prisma } from '../../generated/prisma/client';
import { ScreeningGate } from '../../compliance-client/screening.gate';
import { callerScope, IdempotencyStore, type IdempotentResult } from '../../idempotency/idempotency';
import { assertActive, assertCanCredit, assertCanReserve, assertCurrency } from '../../ledger/account';
import { fingerprint, idViolation, type Money, moneyViolations, textViolations, validateIdempotencyKey } from '../../ledger/ledger';
import { ledgerErrors } from '../../ledger/ledger.errors';
import { LedgerJournal } from '../../journal/ledger-journal';
import { idempotentId } from '../../idempotency/idempotent-id';
import { LedgerRepository } from '../../ledger/ledger.repository';
import { HoldExpiry } from '../hold-expiry';
import { holdToProto } from '../hold.mapping';
import { HoldRepository } from '../hold.repository';

export const DEFAULT_HOLD_TTL_MS = 7 * 24 * 3600 * 1000;
export const MAX_HOLD_TTL_MS = 30 * 24 * 3600 * 1000;

export interface AuthorizeHoldCommand {
  idempotencyKey: string;
  accountId: string;
  destinationAccountId: string;
  amount: Money | undefined;
  /** undefined = server default. */
  ttlMs: number | undefined;
  description: string;
  reference: string;
}

/**
 * Two-phase transfers, phase one: reserve funds in held_minor until captured (CaptureHoldHandler), voided
 * (VoidHoldHandler) or expired (HoldExpiry). A hold only screens at authorisation: a hold that compliance did not approve
 * outright is refused (there is no "hold under review").
 */
@Injectable()
export class AuthorizeHoldHandler {
  constructor(
    private readonly idempotency: IdempotencyStore,
    private readonly ledger: LedgerRepository,
    private readonly holds: HoldRepository,
    private readonly journal: LedgerJournal,
    private readonly gate: ScreeningGate,
    private readonly expiry: HoldExpiry,
  ) {}

  async execute(cmd: AuthorizeHoldCommand): Promise<IdempotentResult<paymentsV1.AuthorizeHoldResponse>> {
    validateIdempotencyKey(cmd.idempotencyKey);
    const violations: FieldViolation[] = [];
    idViolation(cmd.accountId, 'account_id', violations);
    idViolation(cmd.destinationAccountId, 'destination_account_id', violations);
    if (cmd.accountId !== '' && cmd.accountId === cmd.destinationAccountId)
      violations.push({ field: 'destination_account_id', description: 'must differ from account_id' });
    moneyViolations(cmd.amount, 'amount', violations);
    if (cmd.ttlMs !== undefined && (cmd.ttlMs <= 0 || cmd.ttlMs > MAX_HOLD_TTL_MS))
      violations.push({ field: 'ttl', description: 'must be positive and at most 30 days' });
    textViolations({ description: cmd.description, reference: cmd.reference }, violations);
    if (violations.length > 0 || !cmd.amount) throw ledgerErrors.invalid(violations);
    const amount = cmd.amount;
    // Keys are the caller's own (callerScope): so are the hold id and the screening key derived from it.
    const scope = callerScope('payments.AuthorizeHold');
    const id = idempotentId(scope, cmd.idempotencyKey);
    let screeningId = '';
    const call = {
      scope,
      key: cmd.idempotencyKey,
      fingerprint: fingerprint({ ...cmd, idempotencyKey: '' }),
      codec: paymentsV1.AuthorizeHoldResponse,
      refusals: {
        audit: (tx: Prisma.TransactionClient, refusal: AppError) => this.journal.recordRefusal(tx, 'hold', id, refusal, screeningId),
      },
    };
    const replay = await this.idempotency.peek(call);
    if (replay) return { response: replay, replayed: true };

    const accounts = await this.ledger.readAccounts([cmd.accountId, cmd.destinationAccountId]);
    for (const account of accounts.values()) {
      assertActive(account);
      assertCurrency(account, amount.currency);
    }
    const subject = {
      referenceId: id,
      sourceAccountId: cmd.accountId,
      destinationAccountId: cmd.destinationAccountId,
      amountMinor: amount.amountMinor,
      currency: amount.currency,
      ownerId: accounts.get(cmd.accountId)?.ownerId ?? '',
      counterpartyName: '',
      counterpartyCountry: '',
      movementKind: 'hold' as const,
    };
    const screening = await this.gate.screen(`payments.AuthorizeHold:${id}`, subject);
    screeningId = screening.screeningId;
    if (screening.decision !== 'APPROVE') {
      await this.gate.auditRefusal(screening, subject);
      throw ledgerErrors.complianceDeclined(screening.decision, screening.screeningId);
    }
    const expiresAt = new Date(Date.now() + (cmd.ttlMs ?? DEFAULT_HOLD_TTL_MS));
    return this.idempotency.transact(call, async (tx) => {
      const locked = await this.expiry.lockAndRelease(tx, [cmd.accountId, cmd.destinationAccountId]);
      const source = locked.get(cmd.accountId);
      const destination = locked.get(cmd.destinationAccountId);
      if (!source || !destination) throw new Error('accounts not locked');
      for (const account of [source, destination]) {
        assertActive(account);
        assertCurrency(account, amount.currency);
      }
      assertCanReserve(source, amount.amountMinor);
      assertCanCredit(destination, amount.amountMinor);
      const hold = await this.holds.insertHold(tx, {
        id,
        accountId: source.id,
        destinationAccountId: destination.id,
        amountMinor: amount.amountMinor,
        currency: amount.currency,
        description: cmd.description,
        reference: cmd.reference,
        screeningId: screening.screeningId,
        expiresAt,
      });
      await this.ledger.adjust(tx, source, { held: amount.amountMinor });
      await this.journal.record(tx, {
        action: 'compliance.decision',
        entityType: 'hold',
        entityId: id,
        payload: {
          screeningId: screening.screeningId,
          decision: screening.decision,
          ruleVersion: screening.ruleVersion,
          reasons: screening.reasons,
          movementKind: 'hold',
        },
      });
      await this.journal.record(tx, {
        action: 'hold.authorized',
        entityType: 'hold',
        entityId: id,
        payload: {
          accountId: source.id,
          destinationAccountId: destination.id,
          amountMinor: amount.amountMinor.toString(),
          currency: amount.currency,
          expiresAt: expiresAt.toISOString(),
        },
        event: { key: source.id, message: { hold: holdToProto(hold) }, codec: paymentsV1.HoldAuthorized },
      });
      return { response: { hold: holdToProto(hold) }, resourceId: id };
    });
  }
}
