import { Injectable } from '@nestjs/common';
import { paymentsV1 } from '@tessera/contracts';
import type { AppError, FieldViolation } from '@tessera/errors';
import type { Prisma } from '../generated/prisma/client';
import { randomUUID } from 'node:crypto';
import { isUuid } from '../accounts/account';
import { ScreeningGate } from '../compliance-client/screening.gate';
import { callerScope, IdempotencyStore, type IdempotentResult } from '../ledger/idempotency';
import {
  assertActive, assertCanCredit, assertCanReserve, assertCurrency, fingerprint, idViolation, type Money, moneyViolations, textViolations, validateIdempotencyKey,
} from '../ledger/ledger';
import { ledgerErrors } from '../ledger/ledger.errors';
import { LedgerJournal } from '../ledger/ledger.journal';
import { holdToProto, transferToProto } from '../ledger/ledger.mapping';
import { idempotentId } from '../ledger/idempotent-id';
import { LedgerRepository } from '../ledger/ledger.repository';
import { HoldExpiry } from './hold-expiry';

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
 * Two-phase transfers: authorise (reserve funds in held_minor), then capture (post up to the authorised
 * amount, release the rest) or void. A hold only screens at authorisation: a hold that compliance did
 * not approve outright is refused (there is no "hold under review").
 */
@Injectable()
export class HoldHandlers {
  constructor(
    private readonly idempotency: IdempotencyStore,
    private readonly ledger: LedgerRepository,
    private readonly journal: LedgerJournal,
    private readonly gate: ScreeningGate,
    private readonly expiry: HoldExpiry,
  ) {}

  async authorize(cmd: AuthorizeHoldCommand): Promise<IdempotentResult<paymentsV1.AuthorizeHoldResponse>> {
    validateIdempotencyKey(cmd.idempotencyKey);
    const violations: FieldViolation[] = [];
    idViolation(cmd.accountId, 'account_id', violations);
    idViolation(cmd.destinationAccountId, 'destination_account_id', violations);
    if (cmd.accountId !== '' && cmd.accountId === cmd.destinationAccountId) violations.push({ field: 'destination_account_id', description: 'must differ from account_id' });
    moneyViolations(cmd.amount, 'amount', violations);
    if (cmd.ttlMs !== undefined && (cmd.ttlMs <= 0 || cmd.ttlMs > MAX_HOLD_TTL_MS)) violations.push({ field: 'ttl', description: 'must be positive and at most 30 days' });
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
      refusals: { audit: (tx: Prisma.TransactionClient, refusal: AppError) => this.journal.recordRefusal(tx, 'hold', id, refusal, screeningId) },
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
      const locked = await this.ledger.lockAccounts(tx, [cmd.accountId, cmd.destinationAccountId]);
      await this.expiry.releaseDue(tx, locked);
      const source = locked.get(cmd.accountId);
      const destination = locked.get(cmd.destinationAccountId);
      if (!source || !destination) throw new Error('accounts not locked');
      for (const account of [source, destination]) {
        assertActive(account);
        assertCurrency(account, amount.currency);
      }
      assertCanReserve(source, amount.amountMinor);
      assertCanCredit(destination, amount.amountMinor);
      const hold = await this.ledger.insertHold(tx, {
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
        payload: { screeningId: screening.screeningId, decision: screening.decision, ruleVersion: screening.ruleVersion, reasons: screening.reasons, movementKind: 'hold' },
      });
      await this.journal.record(tx, {
        action: 'hold.authorized',
        entityType: 'hold',
        entityId: id,
        payload: { accountId: source.id, destinationAccountId: destination.id, amountMinor: amount.amountMinor.toString(), currency: amount.currency, expiresAt: expiresAt.toISOString() },
        event: { key: source.id, message: { hold: holdToProto(hold) }, codec: paymentsV1.HoldAuthorized },
      });
      return { response: { hold: holdToProto(hold) }, resourceId: id };
    });
  }

  async capture(cmd: { idempotencyKey: string; holdId: string; amount: Money | undefined }): Promise<IdempotentResult<paymentsV1.CaptureHoldResponse>> {
    validateIdempotencyKey(cmd.idempotencyKey);
    if (!isUuid(cmd.holdId)) throw ledgerErrors.malformedId('hold_id');
    if (cmd.amount) {
      const violations: FieldViolation[] = [];
      moneyViolations(cmd.amount, 'amount', violations);
      if (violations.length > 0) throw ledgerErrors.invalid(violations);
    }
    const call = { scope: callerScope('payments.CaptureHold'), key: cmd.idempotencyKey, fingerprint: fingerprint({ ...cmd, idempotencyKey: '' }), codec: paymentsV1.CaptureHoldResponse };
    const replay = await this.idempotency.peek(call);
    if (replay) return { response: replay, replayed: true };
    await this.expireIfDue(cmd.holdId);
    return this.idempotency.transact(call, async (tx) => {
      const hold = await this.ledger.lockHold(tx, cmd.holdId);
      this.assertLive(hold);
      const captured = cmd.amount?.amountMinor ?? hold.amountMinor;
      if (cmd.amount && cmd.amount.currency !== hold.currency) throw ledgerErrors.currencyMismatch(hold.accountId, hold.currency);
      if (captured > hold.amountMinor) throw ledgerErrors.captureExceedsHold(hold.id);
      const accounts = await this.ledger.lockAccounts(tx, [hold.accountId, hold.destinationAccountId]);
      const source = accounts.get(hold.accountId);
      const destination = accounts.get(hold.destinationAccountId);
      if (!source || !destination) throw new Error('accounts not locked');
      assertActive(source);
      assertActive(destination);
      assertCanCredit(destination, captured);
      // Release the whole reservation, post what was captured: available never drops below what the hold already took.
      await this.ledger.adjust(tx, source, { held: -hold.amountMinor });
      const transfer = await this.ledger.insertTransfer(
        tx,
        {
          id: randomUUID(),
          kind: 'HOLD_CAPTURE',
          sourceAccountId: source.id,
          destinationAccountId: destination.id,
          amountMinor: captured,
          currency: hold.currency,
          status: 'POSTED',
          description: hold.description,
          reference: hold.reference,
          labels: {},
          holdId: hold.id,
        },
        new Date(),
      );
      await this.ledger.writePostings(tx, transfer, source, destination);
      const after = await this.ledger.updateHold(tx, hold.id, { status: 'CAPTURED', capturedMinor: captured });
      const response = { hold: holdToProto(after), transfer: transferToProto(transfer) };
      await this.journal.record(tx, {
        action: 'hold.captured',
        entityType: 'hold',
        entityId: hold.id,
        payload: { transferId: transfer.id, authorizedMinor: hold.amountMinor.toString(), capturedMinor: captured.toString(), currency: hold.currency },
        event: { key: source.id, message: response, codec: paymentsV1.HoldCaptured },
      });
      return { response, transferId: transfer.id };
    });
  }

  async void(cmd: { idempotencyKey: string; holdId: string; reason: string }): Promise<IdempotentResult<paymentsV1.VoidHoldResponse>> {
    validateIdempotencyKey(cmd.idempotencyKey);
    if (!isUuid(cmd.holdId)) throw ledgerErrors.malformedId('hold_id');
    const violations: FieldViolation[] = [];
    textViolations({ reason: cmd.reason }, violations);
    if (violations.length > 0) throw ledgerErrors.invalid(violations);
    const call = { scope: callerScope('payments.VoidHold'), key: cmd.idempotencyKey, fingerprint: fingerprint({ ...cmd, idempotencyKey: '' }), codec: paymentsV1.VoidHoldResponse };
    const replay = await this.idempotency.peek(call);
    if (replay) return { response: replay, replayed: true };
    await this.expireIfDue(cmd.holdId);
    return this.idempotency.transact(call, async (tx) => {
      const hold = await this.ledger.lockHold(tx, cmd.holdId);
      this.assertLive(hold);
      // Voiding is allowed on a frozen account: it only gives funds back.
      const accounts = await this.ledger.lockAccounts(tx, [hold.accountId]);
      const source = accounts.get(hold.accountId);
      if (!source) throw new Error('account not locked');
      await this.ledger.adjust(tx, source, { held: -hold.amountMinor });
      const after = await this.ledger.updateHold(tx, hold.id, { status: 'VOIDED' });
      await this.journal.record(tx, {
        action: 'hold.voided',
        entityType: 'hold',
        entityId: hold.id,
        payload: { accountId: hold.accountId, amountMinor: hold.amountMinor.toString(), currency: hold.currency, reason: cmd.reason },
        event: { key: source.id, message: { hold: holdToProto(after), reason: cmd.reason }, codec: paymentsV1.HoldVoided },
      });
      return { response: { hold: holdToProto(after) }, resourceId: hold.id };
    });
  }

  private assertLive(hold: { id: string; status: string; expiresAt: Date }): void {
    if (hold.status === 'EXPIRED' || (hold.status === 'AUTHORIZED' && hold.expiresAt.getTime() <= Date.now())) throw ledgerErrors.holdExpired(hold.id);
    if (hold.status !== 'AUTHORIZED') throw ledgerErrors.holdNotAuthorized(hold.id, hold.status);
  }

  /** Lazy expiry: an expired hold is released (its own transaction) before the caller is told it expired. */
  private async expireIfDue(holdId: string): Promise<void> {
    const hold = await this.ledger.findHold(holdId);
    if (!hold) throw ledgerErrors.holdNotFound(holdId);
    if (hold.status === 'AUTHORIZED' && hold.expiresAt.getTime() <= Date.now()) {
      await this.expiry.releaseAccount(hold.accountId);
      throw ledgerErrors.holdExpired(hold.id);
    }
  }
}
