/**
 * The gateway's two peers as small in-test gRPC servers on ephemeral ports (used by routes.int-spec.ts): a
 * "transactions" server (AccountService, TransferService, AuditService) and a "compliance" server (ComplianceService)
 * that behave like the real ones at the contract level: idempotency, typed AppErrors, four-eyes. Their state is
 * exported so a test can seed it and look at what the servers received.
 */
import { randomUUID } from 'node:crypto';
import { type commonV1, complianceV1, paymentsV1 } from '@tessera/contracts';
import { AppError } from '@tessera/errors';
import { type CallContext, createGrpcServer, type GrpcServerHandle, unaryService, type UnaryImplementation } from '@tessera/grpc';
import pino from 'pino';
import type { TestAuth } from './edge';

export const SLOW_TRANSFER_ID = '99999999-9999-4999-8999-999999999999';
export const COMPLIANCE_DOWN_AMOUNT = 13n;

interface StoredAccount {
  account: paymentsV1.Account;
  ledger: bigint;
  held: bigint;
}
const accounts = new Map<string, StoredAccount>();
const transfers = new Map<string, paymentsV1.Transfer>();
const holds = new Map<string, paymentsV1.Hold>();
export const alerts = new Map<string, complianceV1.Alert>();
const idempotency = new Map<string, { fingerprint: string; response: unknown }>();
/** What the upstream servers received: method, principal (from metadata) and request. */
export const calls: { method: string; principal: string | undefined; request: unknown }[] = [];
/** Flipped by a test: VerifyAuditChain then reports a tampered record. */
export const upstream = { auditTampered: false };

function fail(code: string, kind: AppError['kind'], message: string, metadata: Record<string, string> = {}): never {
  throw new AppError({ code, kind, message, metadata });
}

/** Same key + same request replays the first response; same key + different request is an error. */
async function idempotent<Res>(scope: string, key: string, fingerprint: string, run: () => Promise<Res>): Promise<Res> {
  if (!key) fail('PAYMENTS.IDEMPOTENCY_KEY_REQUIRED', 'INVALID_ARGUMENT', 'idempotency_key is required');
  const seen = idempotency.get(`${scope}:${key}`);
  if (seen) {
    if (seen.fingerprint !== fingerprint)
      fail('PAYMENTS.IDEMPOTENCY_KEY_REUSED', 'FAILED_PRECONDITION', 'Idempotency key was used for a different request');
    return seen.response as Res;
  }
  const response = await run();
  idempotency.set(`${scope}:${key}`, { fingerprint, response });
  return response;
}

function fingerprint<T>(codec: { encode(m: T): { finish(): Uint8Array } }, request: T): string {
  return Buffer.from(codec.encode({ ...request, idempotencyKey: '' }).finish()).toString('base64');
}

/** The caller as a real service sees it: the forwarded credential, verified again (the gateway's word is not trusted). */
async function subjectOf(ctx: CallContext): Promise<string | undefined> {
  if (!options) throw new Error('startFakePeers first');
  return (await options.auth.callers.authenticate(ctx.metadata)).subject;
}

async function record(method: string, ctx: CallContext, request: unknown): Promise<void> {
  calls.push({ method, principal: await subjectOf(ctx), request });
}

function accountOf(id: string): StoredAccount {
  return accounts.get(id) ?? fail('PAYMENTS.ACCOUNT_NOT_FOUND', 'NOT_FOUND', 'No such account', { accountId: id });
}

function money(amountMinor: bigint, currency: string): commonV1.Money {
  return { amountMinor, currency };
}

export function seedAccount(currency = 'EUR', ledger = 0n, overdraft = 0n): string {
  const id = randomUUID();
  const account = paymentsV1.Account.fromPartial({
    id,
    ownerId: 'cust-1',
    name: 'Main',
    type: paymentsV1.AccountType.ACCOUNT_TYPE_ASSET,
    currency,
    status: paymentsV1.AccountStatus.ACCOUNT_STATUS_ACTIVE,
    overdraftLimitMinor: overdraft,
    version: 1n,
    createdAt: new Date(),
  });
  accounts.set(id, { account, ledger, held: 0n });
  return id;
}

function post(instruction: paymentsV1.TransferInstruction, extra: Partial<paymentsV1.Transfer> = {}): paymentsV1.Transfer {
  const amount = instruction.amount ?? fail('PAYMENTS.INVALID_AMOUNT', 'INVALID_ARGUMENT', 'amount is required');
  const source = accountOf(instruction.sourceAccountId);
  const destination = accountOf(instruction.destinationAccountId);
  for (const side of [source, destination]) {
    if (side.account.status === paymentsV1.AccountStatus.ACCOUNT_STATUS_FROZEN)
      fail('PAYMENTS.ACCOUNT_FROZEN', 'FAILED_PRECONDITION', 'Account is frozen', { accountId: side.account.id });
  }
  if (source.account.currency !== amount.currency || destination.account.currency !== amount.currency)
    fail('PAYMENTS.CURRENCY_MISMATCH', 'FAILED_PRECONDITION', 'Currencies differ');
  if (amount.amountMinor === COMPLIANCE_DOWN_AMOUNT)
    fail('PAYMENTS.COMPLIANCE_UNAVAILABLE', 'UNAVAILABLE', 'Compliance screening is unavailable; nothing was posted');
  if (source.ledger - source.held - amount.amountMinor < -source.account.overdraftLimitMinor)
    fail('PAYMENTS.INSUFFICIENT_FUNDS', 'FAILED_PRECONDITION', 'Insufficient funds', { accountId: source.account.id });
  const review = instruction.counterparty?.name === 'Review Me';
  const transfer = paymentsV1.Transfer.fromPartial({
    id: randomUUID(),
    sourceAccountId: source.account.id,
    destinationAccountId: destination.account.id,
    amount,
    status: review ? paymentsV1.TransferStatus.TRANSFER_STATUS_PENDING : paymentsV1.TransferStatus.TRANSFER_STATUS_POSTED,
    kind: paymentsV1.TransferKind.TRANSFER_KIND_DIRECT,
    description: instruction.description,
    reference: instruction.reference,
    postings: review
      ? []
      : [
          { accountId: source.account.id, amount: money(-amount.amountMinor, amount.currency) },
          { accountId: destination.account.id, amount },
        ],
    screeningId: randomUUID(),
    createdAt: new Date(),
    postedAt: review ? undefined : new Date(),
    labels: instruction.labels,
    ...extra,
  });
  if (review) source.held += amount.amountMinor;
  else {
    source.ledger -= amount.amountMinor;
    destination.ledger += amount.amountMinor;
  }
  transfers.set(transfer.id, transfer);
  return transfer;
}

function page<T>(items: T[], request: commonV1.PageRequest | undefined): { items: T[]; page: commonV1.PageResponse } {
  const start = request?.pageToken ? Number(Buffer.from(request.pageToken, 'base64url').toString()) : 0;
  const size = request?.pageSize || 50;
  const next = start + size < items.length ? Buffer.from(String(start + size)).toString('base64url') : '';
  return { items: items.slice(start, start + size), page: { nextPageToken: next } };
}

// ---------------------------------------------------------------- in-test services
const accountService: UnaryImplementation<typeof paymentsV1.AccountServiceService> = {
  async openAccount() {
    fail('TEST.UNUSED', 'INTERNAL', 'covered by gateway.int-spec.ts');
  },
  async getAccount(req) {
    return { account: accountOf(req.accountId).account };
  },
  async listAccounts(req, ctx) {
    await record('ListAccounts', ctx, req);
    const all = [...accounts.values()].map((a) => a.account).filter((a) => !req.currency || a.currency === req.currency);
    const { items, page: next } = page(all, req.page);
    return { accounts: items, page: next };
  },
  async freezeAccount(req, ctx) {
    await record('FreezeAccount', ctx, req);
    return idempotent('freeze', req.idempotencyKey, fingerprint(paymentsV1.FreezeAccountRequest, req), async () => {
      const stored = accountOf(req.accountId);
      if (req.expectedVersion !== 0n && req.expectedVersion !== stored.account.version)
        fail('PAYMENTS.VERSION_CONFLICT', 'ABORTED', 'Account changed');
      stored.account = { ...stored.account, status: paymentsV1.AccountStatus.ACCOUNT_STATUS_FROZEN, version: stored.account.version + 1n };
      return { account: stored.account };
    });
  },
  async closeAccount(req, ctx) {
    await record('CloseAccount', ctx, req);
    return idempotent('close', req.idempotencyKey, fingerprint(paymentsV1.CloseAccountRequest, req), async () => {
      const stored = accountOf(req.accountId);
      if (stored.ledger !== 0n || stored.held !== 0n)
        fail('PAYMENTS.ACCOUNT_NOT_EMPTY', 'FAILED_PRECONDITION', 'Balance must be zero to close');
      stored.account = { ...stored.account, status: paymentsV1.AccountStatus.ACCOUNT_STATUS_CLOSED, version: stored.account.version + 1n };
      return { account: stored.account };
    });
  },
  async getBalance(req) {
    const { account, ledger, held } = accountOf(req.accountId);
    return {
      balance: {
        accountId: account.id,
        ledger: money(ledger, account.currency),
        available: money(ledger - held, account.currency),
        held: money(held, account.currency),
        version: account.version,
        asOf: new Date(),
      },
    };
  },
};

const transferService: UnaryImplementation<typeof paymentsV1.TransferServiceService> = {
  async createTransfer(req, ctx) {
    await record('CreateTransfer', ctx, req);
    return idempotent('transfer', req.idempotencyKey, fingerprint(paymentsV1.CreateTransferRequest, req), async () => ({
      transfer: post(req.transfer ?? fail('T', 'INVALID_ARGUMENT', 'transfer required')),
    }));
  },
  async createTransferBatch(req, ctx) {
    await record('CreateTransferBatch', ctx, req);
    return idempotent('batch', req.idempotencyKey, fingerprint(paymentsV1.CreateTransferBatchRequest, req), async () => {
      const batchId = randomUUID();
      return { batchId, transfers: req.transfers.map((t) => post(t, { batchId })) };
    });
  },
  async getTransfer(req) {
    if (req.transferId === SLOW_TRANSFER_ID) await new Promise((resolve) => setTimeout(resolve, (options?.deadlineMs ?? 0) * 2));
    return {
      transfer:
        transfers.get(req.transferId) ??
        fail('PAYMENTS.TRANSFER_NOT_FOUND', 'NOT_FOUND', 'No such transfer', { transferId: req.transferId }),
    };
  },
  async listTransfers(req, ctx) {
    await record('ListTransfers', ctx, req);
    const all = [...transfers.values()]
      .filter((t) => !req.accountId || t.sourceAccountId === req.accountId || t.destinationAccountId === req.accountId)
      .reverse();
    const { items, page: next } = page(all, req.page);
    return { transfers: items, page: next };
  },
  async authorizeHold(req, ctx) {
    await record('AuthorizeHold', ctx, req);
    return idempotent('hold', req.idempotencyKey, fingerprint(paymentsV1.AuthorizeHoldRequest, req), async () => {
      const source = accountOf(req.accountId);
      accountOf(req.destinationAccountId);
      const amount = req.amount ?? fail('T', 'INVALID_ARGUMENT', 'amount required');
      if (source.ledger - source.held - amount.amountMinor < -source.account.overdraftLimitMinor)
        fail('PAYMENTS.INSUFFICIENT_FUNDS', 'FAILED_PRECONDITION', 'Insufficient funds');
      source.held += amount.amountMinor;
      const ttlMs = Number(req.ttl?.seconds ?? 604_800n) * 1000;
      const hold = paymentsV1.Hold.fromPartial({
        id: randomUUID(),
        accountId: req.accountId,
        destinationAccountId: req.destinationAccountId,
        amount,
        status: paymentsV1.HoldStatus.HOLD_STATUS_AUTHORIZED,
        expiresAt: new Date(Date.now() + ttlMs),
        createdAt: new Date(),
      });
      holds.set(hold.id, hold);
      return { hold };
    });
  },
  async captureHold(req, ctx) {
    await record('CaptureHold', ctx, req);
    return idempotent('capture', req.idempotencyKey, fingerprint(paymentsV1.CaptureHoldRequest, req), async () => {
      const hold = holds.get(req.holdId) ?? fail('PAYMENTS.HOLD_NOT_FOUND', 'NOT_FOUND', 'No such hold');
      if (hold.status !== paymentsV1.HoldStatus.HOLD_STATUS_AUTHORIZED)
        fail('PAYMENTS.HOLD_NOT_AUTHORIZED', 'FAILED_PRECONDITION', 'Hold is not authorized');
      const amount = req.amount ?? hold.amount ?? fail('T', 'INTERNAL', 'no amount');
      accountOf(hold.accountId).held -= hold.amount?.amountMinor ?? 0n;
      const transfer = post(
        {
          sourceAccountId: hold.accountId,
          destinationAccountId: hold.destinationAccountId,
          amount,
          description: '',
          reference: '',
          labels: {},
          counterparty: undefined,
        },
        { holdId: hold.id, kind: paymentsV1.TransferKind.TRANSFER_KIND_HOLD_CAPTURE },
      );
      const captured = {
        ...hold,
        status: paymentsV1.HoldStatus.HOLD_STATUS_CAPTURED,
        capturedAmount: amount,
        captureTransferId: transfer.id,
      };
      holds.set(hold.id, captured);
      return { hold: captured, transfer };
    });
  },
  async voidHold(req, ctx) {
    await record('VoidHold', ctx, req);
    return idempotent('void', req.idempotencyKey, fingerprint(paymentsV1.VoidHoldRequest, req), async () => {
      const hold = holds.get(req.holdId) ?? fail('PAYMENTS.HOLD_NOT_FOUND', 'NOT_FOUND', 'No such hold');
      if (hold.status !== paymentsV1.HoldStatus.HOLD_STATUS_AUTHORIZED)
        fail('PAYMENTS.HOLD_NOT_AUTHORIZED', 'FAILED_PRECONDITION', 'Hold is not authorized');
      accountOf(hold.accountId).held -= hold.amount?.amountMinor ?? 0n;
      const voided = { ...hold, status: paymentsV1.HoldStatus.HOLD_STATUS_VOIDED };
      holds.set(hold.id, voided);
      return { hold: voided };
    });
  },
  async reverseTransfer(req, ctx) {
    await record('ReverseTransfer', ctx, req);
    return idempotent('reverse', req.idempotencyKey, fingerprint(paymentsV1.ReverseTransferRequest, req), async () => {
      const original = transfers.get(req.transferId) ?? fail('PAYMENTS.TRANSFER_NOT_FOUND', 'NOT_FOUND', 'No such transfer');
      if (original.status !== paymentsV1.TransferStatus.TRANSFER_STATUS_POSTED)
        fail('PAYMENTS.TRANSFER_NOT_REVERSIBLE', 'FAILED_PRECONDITION', 'Only a POSTED transfer can be reversed');
      const reversal = post(
        {
          sourceAccountId: original.destinationAccountId,
          destinationAccountId: original.sourceAccountId,
          amount: original.amount,
          description: req.reason,
          reference: '',
          labels: {},
          counterparty: undefined,
        },
        { reversesTransferId: original.id, kind: paymentsV1.TransferKind.TRANSFER_KIND_REVERSAL },
      );
      const reversed = { ...original, status: paymentsV1.TransferStatus.TRANSFER_STATUS_REVERSED, reversedByTransferId: reversal.id };
      transfers.set(original.id, reversed);
      return { original: reversed, reversal };
    });
  },
  async approveRelease() {
    fail('TEST.UNUSED', 'INTERNAL', 'not exposed over REST');
  },
  async releaseTransfer() {
    fail('TEST.UNUSED', 'INTERNAL', 'not exposed over REST');
  },
  async declineHeldTransfer() {
    fail('TEST.UNUSED', 'INTERNAL', 'not exposed over REST');
  },
};

const auditService: UnaryImplementation<typeof paymentsV1.AuditServiceService> = {
  async verifyAuditChain(req, ctx) {
    await record('VerifyAuditChain', ctx, req);
    return upstream.auditTampered
      ? { valid: false, recordsChecked: 2n, firstInvalidSeq: 2n, failureReason: 'hash mismatch', headHash: '' }
      : { valid: true, recordsChecked: 2n, firstInvalidSeq: 0n, failureReason: '', headHash: 'b'.repeat(64) };
  },
  async listAuditRecords(req, ctx) {
    await record('ListAuditRecords', ctx, req);
    const records = [1n, 2n].map((seq) =>
      paymentsV1.AuditRecord.fromPartial({
        seq,
        id: randomUUID(),
        occurredAt: new Date(),
        actor: 'alice',
        action: 'transfer.posted',
        entityType: 'transfer',
        entityId: req.entityId || 't-1',
        payloadJson: JSON.stringify({ amountMinor: '1050', currency: 'EUR' }),
        prevHash: seq === 1n ? '0'.repeat(64) : 'a'.repeat(64),
        hash: seq === 1n ? 'a'.repeat(64) : 'b'.repeat(64),
      }),
    );
    return { records, page: { nextPageToken: '' } };
  },
};

const complianceService: UnaryImplementation<typeof complianceV1.ComplianceServiceService> = {
  async screen() {
    fail('TEST.UNUSED', 'INTERNAL', 'called by transactions, not the gateway');
  },
  async screenBatch() {
    fail('TEST.UNUSED', 'INTERNAL', 'called by transactions, not the gateway');
  },
  async listAlerts(req, ctx) {
    await record('ListAlerts', ctx, req);
    const all = [...alerts.values()].filter(
      (a) => req.status === complianceV1.AlertStatus.ALERT_STATUS_UNSPECIFIED || a.status === req.status,
    );
    const { items, page: next } = page(all, req.page);
    return { alerts: items, page: next };
  },
  async assignAlert(req, ctx) {
    await record('AssignAlert', ctx, req);
    const alert = alerts.get(req.alertId) ?? fail('COMPLIANCE.ALERT_NOT_FOUND', 'NOT_FOUND', 'No such alert');
    const assigned = { ...alert, assignee: req.assignee, status: complianceV1.AlertStatus.ALERT_STATUS_ASSIGNED };
    alerts.set(alert.id, assigned);
    return { alert: assigned };
  },
  async resolveAlert(req, ctx) {
    await record('ResolveAlert', ctx, req);
    const alert = alerts.get(req.alertId) ?? fail('COMPLIANCE.ALERT_NOT_FOUND', 'NOT_FOUND', 'No such alert');
    const reviewer = (await subjectOf(ctx)) ?? 'anonymous';
    if (req.resolution === complianceV1.AlertResolution.ALERT_RESOLUTION_RELEASE) {
      if (alert.releaseApprovals.includes(reviewer))
        fail('COMPLIANCE.FOUR_EYES_REQUIRED', 'FAILED_PRECONDITION', 'A second, different reviewer must approve the release');
      const approvals = [...alert.releaseApprovals, reviewer];
      const done = approvals.length >= 2;
      const next = {
        ...alert,
        releaseApprovals: approvals,
        status: done ? complianceV1.AlertStatus.ALERT_STATUS_RESOLVED : complianceV1.AlertStatus.ALERT_STATUS_AWAITING_SECOND_APPROVAL,
        resolution: done ? req.resolution : alert.resolution,
        resolutionNote: req.note,
      };
      alerts.set(alert.id, next);
      return { alert: next };
    }
    const resolved = {
      ...alert,
      status: complianceV1.AlertStatus.ALERT_STATUS_RESOLVED,
      resolution: req.resolution,
      resolutionNote: req.note,
    };
    alerts.set(alert.id, resolved);
    return { alert: resolved };
  },
};

export interface FakePeers {
  transactionsPort: number;
  compliancePort: number;
  /** Stops the compliance server only (the gateway's "compliance is down" path). */
  stopCompliance(): Promise<void>;
  shutdown(): Promise<void>;
}

export interface FakePeerOptions {
  /** Verifies the credential the gateway forwards, as the real services do. */
  auth: Pick<TestAuth['auth'], 'callers'>;
  /** The gateway's gRPC deadline: GetTransfer of SLOW_TRANSFER_ID answers after twice this. */
  deadlineMs: number;
}

let options: FakePeerOptions | undefined;

export async function startFakePeers(peerOptions: FakePeerOptions): Promise<FakePeers> {
  options = peerOptions;
  const logger = pino({ level: 'silent' });
  const transactionsServer: GrpcServerHandle = await createGrpcServer({
    port: 0,
    host: '127.0.0.1',
    logger,
    shutdownGraceMs: 200,
    services: [
      {
        definition: paymentsV1.AccountServiceService,
        implementation: unaryService(paymentsV1.AccountServiceService, accountService, { logger }),
      },
      {
        definition: paymentsV1.TransferServiceService,
        implementation: unaryService(paymentsV1.TransferServiceService, transferService, { logger }),
      },
      {
        definition: paymentsV1.AuditServiceService,
        implementation: unaryService(paymentsV1.AuditServiceService, auditService, { logger }),
      },
    ],
  });
  const complianceServer: GrpcServerHandle = await createGrpcServer({
    port: 0,
    host: '127.0.0.1',
    logger,
    shutdownGraceMs: 200,
    services: [
      {
        definition: complianceV1.ComplianceServiceService,
        implementation: unaryService(complianceV1.ComplianceServiceService, complianceService, { logger }),
      },
    ],
  });
  return {
    transactionsPort: transactionsServer.port,
    compliancePort: complianceServer.port,
    stopCompliance: () => complianceServer.shutdown(),
    shutdown: async () => {
      await Promise.allSettled([transactionsServer.shutdown(), complianceServer.shutdown()]);
    },
  };
}
