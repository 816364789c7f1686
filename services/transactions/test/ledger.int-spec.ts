/**
 * TransferService + AccountService ledger RPCs in-process (real Nest app, gRPC socket, throwaway Postgres)
 * with a real in-test ComplianceService gRPC server whose decisions the test controls.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { complianceV1, descriptorSetPath, paymentsV1 } from '@tessera/contracts';
import { AppError } from '@tessera/errors';
import { createGrpcClient, createGrpcServer, type GrpcServerHandle, unaryCall, unaryService } from '@tessera/grpc';
import { Metadata } from '@grpc/grpc-js';
import fc from 'fast-check';
import { Client } from 'pg';
import { AppModule } from '../src/app.module';
import { transactionsConfigSchema } from '../src/config';
import { sendAs, staffAuthorization } from './support/auth-client';
import { startTestAuth, type TestAuth } from '@tessera/auth';
import { freePort, throwawayDatabase, type ThrowawayDatabase } from '@tessera/testing';

jest.setTimeout(60_000);
process.env['LOG_LEVEL'] ??= 'warn';
// Outbox rows stay unsent so the test can count them; the relay has its own suites.
process.env['TRANSACTIONS_OUTBOX_RELAY_ENABLED'] = 'false';

const MIGRATIONS_DIR = path.resolve(__dirname, '../prisma/migrations');
const SCREEN_DEADLINE_MS = 300;

type Mode = 'APPROVE' | 'REVIEW' | 'DECLINE' | 'SLOW' | 'ERROR' | 'BY_AMOUNT';
let mode: Mode = 'APPROVE';
let screened = 0;
/** ScreenBatch calls received: a batch request screens in one call (issue #10). */
let screenBatches = 0;

let db: Client;
let database: ThrowawayDatabase;
let auth: TestAuth;
let app: INestApplicationContext;
let compliance: GrpcServerHandle;
let transfers: paymentsV1.TransferServiceClient;
let accounts: paymentsV1.AccountServiceClient;
let address: string;

const key = () => `key-${randomUUID()}`;

/** Records `officer`'s approval to release a held transfer, as compliance does: with the officer's own token. */
async function approveAs(officer: string, transferId: string, roles: Array<'compliance-officer' | 'operator'> = ['compliance-officer']) {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${await auth.issuer.mint({ sub: officer, roles, ttlSec: 600 })}`);
  return unaryCall(transfers, 'approveRelease', { transferId, alertId: 'al-1', note: `${officer} ok` }, { metadata });
}
const eur = (amountMinor: bigint) => ({ amountMinor, currency: 'EUR' });

async function rejection(p: Promise<unknown>): Promise<AppError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error instanceof AppError) return error;
  throw new Error(`expected an AppError, got ${String(error)}`);
}

async function openAccount(overdraft = 0n, currency = 'EUR', ownerId = 'owner-1'): Promise<string> {
  const { account } = await unaryCall(accounts, 'openAccount', {
    idempotencyKey: key(),
    ownerId,
    name: 'test',
    type: paymentsV1.AccountType.ACCOUNT_TYPE_LIABILITY,
    currency,
    overdraftLimitMinor: overdraft,
    labels: {},
  });
  return account!.id;
}

async function transfer(source: string, destination: string, amountMinor: bigint, idempotencyKey = key()) {
  const { transfer: t } = await unaryCall(transfers, 'createTransfer', {
    idempotencyKey,
    transfer: paymentsV1.TransferInstruction.fromPartial({
      sourceAccountId: source,
      destinationAccountId: destination,
      amount: eur(amountMinor),
    }),
  });
  return t!;
}

async function balance(accountId: string) {
  const { balance: b } = await unaryCall(accounts, 'getBalance', { accountId });
  return { ledger: b!.ledger!.amountMinor, held: b!.held!.amountMinor, available: b!.available!.amountMinor };
}

/** Rows in every table a mutation writes: "nothing written" means this does not change. */
async function footprint(): Promise<Record<string, number>> {
  const { rows } = await db.query<Record<string, string>>(`SELECT
      (SELECT count(*) FROM transfers) AS transfers, (SELECT count(*) FROM postings) AS postings,
      (SELECT count(*) FROM holds) AS holds, (SELECT count(*) FROM idempotency_keys) AS keys,
      (SELECT count(*) FROM outbox_events) AS outbox, (SELECT count(*) FROM audit_records) AS audit,
      (SELECT sum(held_minor) FROM accounts) AS held, (SELECT sum(balance_minor) FROM accounts) AS balance`);
  return Object.fromEntries(Object.entries(rows[0] ?? {}).map(([k, v]) => [k, Number(v ?? 0)]));
}

/** The ledger's invariants, straight from SQL. */
async function assertLedgerInvariants(): Promise<void> {
  const { rows: sum } = await db.query<{ s: string }>(
    `SELECT COALESCE(sum(CASE direction WHEN 'CREDIT' THEN amount_minor ELSE -amount_minor END), 0)::text AS s FROM postings`,
  );
  expect(sum[0]?.s).toBe('0');
  const { rows: drift } =
    await db.query(`SELECT a.id FROM accounts a LEFT JOIN postings p ON p.account_id = a.id GROUP BY a.id, a.balance_minor
      HAVING a.balance_minor <> COALESCE(sum(CASE p.direction WHEN 'CREDIT' THEN p.amount_minor ELSE -p.amount_minor END), 0)`);
  expect(drift).toEqual([]);
  const { rows: held } = await db.query(`SELECT a.id FROM accounts a WHERE a.held_minor <>
      COALESCE((SELECT sum(amount_minor) FROM holds h WHERE h.account_id = a.id AND h.status = 'AUTHORIZED'), 0)
    + COALESCE((SELECT sum(amount_minor) FROM transfers t WHERE t.source_account_id = a.id AND t.status = 'PENDING'), 0)`);
  expect(held).toEqual([]);
  const { rows: negative } = await db.query(`SELECT id FROM accounts WHERE balance_minor - held_minor < -overdraft_limit_minor`);
  expect(negative).toEqual([]);
}

beforeAll(async () => {
  database = await throwawayDatabase('tessera_ledgertest', MIGRATIONS_DIR);
  const url = database.url;
  db = new Client({ connectionString: url });
  await db.connect();
  auth = await startTestAuth();
  const screenOne = async (req: complianceV1.ScreenRequest): Promise<complianceV1.ScreenResponse> => {
    screened++;
    // BY_AMOUNT: deterministic per request so concurrent property runs get a mix of decisions.
    const amount = req.subject?.amount?.amountMinor ?? 0n;
    const decided: Mode =
      mode !== 'BY_AMOUNT'
        ? mode
        : req.subject?.movementKind === 'transfer' && amount % 3n === 0n
          ? 'REVIEW'
          : amount % 7n === 0n
            ? 'DECLINE'
            : 'APPROVE';
    if (mode === 'SLOW') await sleep(SCREEN_DEADLINE_MS * 3);
    if (mode === 'ERROR') throw new AppError({ code: 'COMPLIANCE.BROKEN', kind: 'INTERNAL', message: 'boom' });
    const decision =
      decided === 'REVIEW'
        ? complianceV1.Decision.DECISION_REVIEW
        : decided === 'DECLINE'
          ? complianceV1.Decision.DECISION_DECLINE
          : complianceV1.Decision.DECISION_APPROVE;
    return {
      screeningId: randomUUID(),
      decision,
      reasons: decided === 'APPROVE' ? [] : [{ code: 'LIMIT', ruleId: 'r1', description: '' }],
      ruleVersion: 'test-1',
      riskScore: 10,
    };
  };
  compliance = await createGrpcServer({
    port: await freePort(),
    host: '127.0.0.1',
    descriptorSetPath,
    services: [
      {
        definition: complianceV1.ComplianceServiceService,
        implementation: unaryService(complianceV1.ComplianceServiceService, {
          screen: (req: complianceV1.ScreenRequest) => screenOne(req),
          // The batch route screens in one call: the same decisions, item by item, in order.
          screenBatch: async (req: complianceV1.ScreenBatchRequest) => {
            screenBatches++;
            const items = [];
            for (const item of req.items) items.push(await screenOne(item));
            return { items };
          },
          listAlerts: async () => ({ alerts: [] }),
          assignAlert: async () => ({}),
          resolveAlert: async () => ({}),
        }),
      },
    ],
  });
  const port = await freePort();
  const config = transactionsConfigSchema.parse({
    TRANSACTIONS_AUDIT_CHECKPOINT_MS: '0', // no anchor on the shared broker's default topic
    ...auth.env,
    TRANSACTIONS_GRPC_PORT: String(port),
    TRANSACTIONS_DATABASE_URL: url,
    TRANSACTIONS_DB_POOL_MAX: '10',
    COMPLIANCE_ADDR: `127.0.0.1:${compliance.port}`,
    TRANSACTIONS_SCREEN_DEADLINE_MS: String(SCREEN_DEADLINE_MS),
    TRANSACTIONS_HOLD_SWEEP_INTERVAL_MS: '200',
  });
  app = await NestFactory.createApplicationContext(AppModule.forRoot(config), { logger: ['error', 'warn'] });
  await app.init();
  const staff = await staffAuthorization(auth);
  address = `127.0.0.1:${port}`;
  transfers = createGrpcClient(paymentsV1.TransferServiceClient, `127.0.0.1:${port}`, {
    retry: 'none',
    defaultDeadlineMs: 20_000,
    ...sendAs(staff),
  });
  accounts = createGrpcClient(paymentsV1.AccountServiceClient, `127.0.0.1:${port}`, {
    retry: 'none',
    defaultDeadlineMs: 20_000,
    ...sendAs(staff),
  });
});

beforeEach(() => {
  mode = 'APPROVE';
});

afterAll(async () => {
  transfers?.close();
  accounts?.close();
  await app?.close();
  await compliance?.shutdown();
  await db?.end();
  await database.drop();
  auth?.close();
});

describe('TransferService', () => {
  describe('CreateTransfer', () => {
    it('posts two balanced legs, with audit records and one outbox event in the same commit', async () => {
      const a = await openAccount(1_000n);
      const b = await openAccount();
      const before = await footprint();
      const t = await transfer(a, b, 250n);
      expect(t).toMatchObject({
        status: paymentsV1.TransferStatus.TRANSFER_STATUS_POSTED,
        kind: paymentsV1.TransferKind.TRANSFER_KIND_DIRECT,
        amount: eur(250n),
      });
      expect(t.postings).toEqual([
        { accountId: a, amount: eur(-250n) },
        { accountId: b, amount: eur(250n) },
      ]);
      expect(await balance(a)).toEqual({ ledger: -250n, held: 0n, available: -250n });
      expect(await balance(b)).toEqual({ ledger: 250n, held: 0n, available: 250n });
      const after = await footprint();
      expect(after['transfers']! - before['transfers']!).toBe(1);
      expect(after['postings']! - before['postings']!).toBe(2);
      expect(after['outbox']! - before['outbox']!).toBe(1);
      const { rows } = await db.query<{ action: string }>(`SELECT action FROM audit_records WHERE entity_id = $1 ORDER BY seq`, [t.id]);
      expect(rows.map((r) => r.action)).toEqual(['compliance.decision', 'transfer.posted']);
      // Every committed key (OpenAccount included) holds its encoded first response for replays.
      const { rows: keys } = await db.query<{ scope: string; missing: number }>(
        `SELECT split_part(scope, '@', 1) AS scope, count(*) FILTER (WHERE response IS NULL)::int AS missing FROM idempotency_keys GROUP BY 1 ORDER BY 1`,
      );
      expect(keys).toEqual([
        { scope: 'payments.CreateTransfer', missing: 0 },
        { scope: 'payments.OpenAccount', missing: 0 },
      ]);
    });

    it('DECLINE records a DECLINED transfer with no postings; REVIEW holds the amount as PENDING', async () => {
      const a = await openAccount(1_000n);
      const b = await openAccount();
      mode = 'DECLINE';
      const declined = await transfer(a, b, 100n);
      expect(declined.status).toBe(paymentsV1.TransferStatus.TRANSFER_STATUS_DECLINED);
      expect(declined.postings).toEqual([]);
      mode = 'REVIEW';
      const pending = await transfer(a, b, 300n);
      expect(pending.status).toBe(paymentsV1.TransferStatus.TRANSFER_STATUS_PENDING);
      expect(await balance(a)).toEqual({ ledger: 0n, held: 300n, available: -300n });
      await assertLedgerInvariants();
    });

    it('replays the first response for concurrent retries of one key and posts once', async () => {
      const a = await openAccount(10_000n);
      const b = await openAccount();
      const k = key();
      const before = await footprint();
      const results = await Promise.all(Array.from({ length: 8 }, () => transfer(a, b, 40n, k)));
      expect(new Set(results.map((r) => r.id)).size).toBe(1);
      const after = await footprint();
      expect(after['transfers']! - before['transfers']!).toBe(1);
      expect(after['postings']! - before['postings']!).toBe(2);
      expect(after['outbox']! - before['outbox']!).toBe(1);
      expect(await balance(b)).toMatchObject({ ledger: 40n });
      // A retry after the commit is answered from the stored response, without asking compliance again.
      const screenedBefore = screened;
      expect((await transfer(a, b, 40n, k)).id).toBe(results[0]!.id);
      expect(screened).toBe(screenedBefore);
      const reused = await rejection(transfer(a, b, 41n, k));
      expect(reused).toMatchObject({ kind: 'FAILED_PRECONDITION', code: 'PAYMENTS.IDEMPOTENCY_KEY_REUSED' });
    });

    describe('bad input: the right status and reason, nothing written', () => {
      let a: string;
      let b: string;
      let usd: string;
      let frozen: string;
      let closed: string;
      beforeAll(async () => {
        a = await openAccount(100n);
        b = await openAccount();
        usd = await openAccount(0n, 'USD');
        frozen = await openAccount();
        closed = await openAccount();
        await unaryCall(accounts, 'freezeAccount', { idempotencyKey: key(), accountId: frozen, reason: 'test', expectedVersion: 0n });
        await unaryCall(accounts, 'closeAccount', { idempotencyKey: key(), accountId: closed, reason: 'test', expectedVersion: 0n });
      });
      const ins = (p: Partial<paymentsV1.TransferInstruction>) =>
        paymentsV1.TransferInstruction.fromPartial({ sourceAccountId: a, destinationAccountId: b, amount: eur(10n), ...p });
      const cases: [string, () => paymentsV1.CreateTransferRequest, string, string][] = [
        [
          'zero amount',
          () => ({ idempotencyKey: key(), transfer: ins({ amount: eur(0n) }) }),
          'INVALID_ARGUMENT',
          'PAYMENTS.INVALID_TRANSFER_REQUEST',
        ],
        [
          'negative amount',
          () => ({ idempotencyKey: key(), transfer: ins({ amount: eur(-5n) }) }),
          'INVALID_ARGUMENT',
          'PAYMENTS.INVALID_TRANSFER_REQUEST',
        ],
        [
          'unknown currency',
          () => ({ idempotencyKey: key(), transfer: ins({ amount: { amountMinor: 5n, currency: 'XQQ' } }) }),
          'INVALID_ARGUMENT',
          'PAYMENTS.INVALID_TRANSFER_REQUEST',
        ],
        [
          'same source and destination',
          () => ({ idempotencyKey: key(), transfer: ins({ destinationAccountId: a }) }),
          'INVALID_ARGUMENT',
          'PAYMENTS.INVALID_TRANSFER_REQUEST',
        ],
        [
          'malformed id',
          () => ({ idempotencyKey: key(), transfer: ins({ sourceAccountId: 'not-a-uuid' }) }),
          'INVALID_ARGUMENT',
          'PAYMENTS.INVALID_TRANSFER_REQUEST',
        ],
        [
          'missing idempotency key',
          () => ({ idempotencyKey: '', transfer: ins({}) }),
          'INVALID_ARGUMENT',
          'PAYMENTS.MISSING_IDEMPOTENCY_KEY',
        ],
        [
          'oversize description',
          () => ({ idempotencyKey: key(), transfer: ins({ description: 'x'.repeat(5000) }) }),
          'INVALID_ARGUMENT',
          'PAYMENTS.INVALID_TRANSFER_REQUEST',
        ],
        [
          'currency mismatch',
          () => ({ idempotencyKey: key(), transfer: ins({ destinationAccountId: usd }) }),
          'FAILED_PRECONDITION',
          'PAYMENTS.CURRENCY_MISMATCH',
        ],
        [
          'frozen account',
          () => ({ idempotencyKey: key(), transfer: ins({ destinationAccountId: frozen }) }),
          'FAILED_PRECONDITION',
          'PAYMENTS.ACCOUNT_FROZEN',
        ],
        [
          'closed account',
          () => ({ idempotencyKey: key(), transfer: ins({ sourceAccountId: closed }) }),
          'FAILED_PRECONDITION',
          'PAYMENTS.ACCOUNT_CLOSED',
        ],
        [
          'beyond the overdraft',
          () => ({ idempotencyKey: key(), transfer: ins({ amount: eur(101n) }) }),
          'FAILED_PRECONDITION',
          'PAYMENTS.INSUFFICIENT_FUNDS',
        ],
        [
          'unknown account',
          () => ({ idempotencyKey: key(), transfer: ins({ destinationAccountId: randomUUID() }) }),
          'NOT_FOUND',
          'PAYMENTS.ACCOUNT_NOT_FOUND',
        ],
      ];
      // A refusal decided inside the ledger transaction (after screening) keeps its key for replay (issue #10): the
      // key row with the refusal and its `transfer.refused` audit record are all it writes; money-wise nothing.
      const keptForReplay = new Set(['PAYMENTS.INSUFFICIENT_FUNDS']);
      it.each(cases)('%s', async (_name, request, kind, code) => {
        const before = await footprint();
        const req = request();
        await expect(rejection(unaryCall(transfers, 'createTransfer', req))).resolves.toMatchObject({ kind, code });
        const kept = keptForReplay.has(code) ? 1 : 0;
        expect(await footprint()).toEqual({ ...before, keys: (before['keys'] ?? 0) + kept, audit: (before['audit'] ?? 0) + kept });
        if (kept) await expect(rejection(unaryCall(transfers, 'createTransfer', req))).resolves.toMatchObject({ kind, code });
      });

      it('an amount beyond int64 never reaches the ledger', async () => {
        const before = await footprint();
        // int64 on the wire cannot carry more; the client library refuses to encode it.
        await expect(
          unaryCall(transfers, 'createTransfer', { idempotencyKey: key(), transfer: ins({ amount: eur(2n ** 64n) }) }),
        ).rejects.toBeDefined();
        expect(await footprint()).toEqual(before);
      });
    });
  });

  describe('fail-closed screening', () => {
    it('refuses with COMPLIANCE_UNAVAILABLE when compliance is slow or failing, posts nothing, audits the refusal', async () => {
      const a = await openAccount(1_000n);
      const b = await openAccount();
      for (const m of ['SLOW', 'ERROR'] as const) {
        mode = m;
        const before = await footprint();
        const started = Date.now();
        await expect(rejection(transfer(a, b, 10n))).resolves.toMatchObject({
          kind: 'UNAVAILABLE',
          code: 'PAYMENTS.COMPLIANCE_UNAVAILABLE',
        });
        if (m === 'SLOW') expect(Date.now() - started).toBeLessThan(SCREEN_DEADLINE_MS * 3);
        const after = await footprint();
        expect({ ...after, audit: 0 }).toEqual({ ...before, audit: 0 });
        expect(after['audit']! - before['audit']!).toBe(1);
      }
      const { rows } = await db.query(`SELECT count(*)::int AS n FROM audit_records WHERE action = 'transfer.screening_failed'`);
      expect(rows[0]).toEqual({ n: 2 });
    });
  });

  describe('holds', () => {
    it('authorise reserves, partial capture posts and releases the rest, void releases, over-capture is refused', async () => {
      const a = await openAccount(1_000n);
      const b = await openAccount();
      const { hold } = await unaryCall(transfers, 'authorizeHold', {
        idempotencyKey: key(),
        accountId: a,
        destinationAccountId: b,
        amount: eur(600n),
        description: '',
        reference: '',
      });
      expect(await balance(a)).toEqual({ ledger: 0n, held: 600n, available: -600n });
      await expect(
        rejection(
          unaryCall(transfers, 'authorizeHold', {
            idempotencyKey: key(),
            accountId: a,
            destinationAccountId: b,
            amount: eur(401n),
            description: '',
            reference: '',
          }),
        ),
      ).resolves.toMatchObject({ code: 'PAYMENTS.INSUFFICIENT_FUNDS' });
      await expect(
        rejection(unaryCall(transfers, 'captureHold', { idempotencyKey: key(), holdId: hold!.id, amount: eur(601n) })),
      ).resolves.toMatchObject({ code: 'PAYMENTS.CAPTURE_EXCEEDS_HOLD' });
      const captured = await unaryCall(transfers, 'captureHold', { idempotencyKey: key(), holdId: hold!.id, amount: eur(250n) });
      expect(captured.hold).toMatchObject({ status: paymentsV1.HoldStatus.HOLD_STATUS_CAPTURED, capturedAmount: eur(250n) });
      expect(captured.transfer).toMatchObject({
        kind: paymentsV1.TransferKind.TRANSFER_KIND_HOLD_CAPTURE,
        holdId: hold!.id,
        amount: eur(250n),
      });
      expect(await balance(a)).toEqual({ ledger: -250n, held: 0n, available: -250n });
      await expect(
        rejection(unaryCall(transfers, 'voidHold', { idempotencyKey: key(), holdId: hold!.id, reason: '' })),
      ).resolves.toMatchObject({ code: 'PAYMENTS.HOLD_NOT_AUTHORIZED' });
      const second = await unaryCall(transfers, 'authorizeHold', {
        idempotencyKey: key(),
        accountId: a,
        destinationAccountId: b,
        amount: eur(100n),
        description: '',
        reference: '',
      });
      const voided = await unaryCall(transfers, 'voidHold', {
        idempotencyKey: key(),
        holdId: second.hold!.id,
        reason: 'customer cancelled',
      });
      expect(voided.hold?.status).toBe(paymentsV1.HoldStatus.HOLD_STATUS_VOIDED);
      expect(await balance(a)).toEqual({ ledger: -250n, held: 0n, available: -250n });
      await assertLedgerInvariants();
    });

    it('an expired hold releases its funds (sweeper) and can no longer be captured', async () => {
      const a = await openAccount(500n);
      const b = await openAccount();
      const { hold } = await unaryCall(transfers, 'authorizeHold', {
        idempotencyKey: key(),
        accountId: a,
        destinationAccountId: b,
        amount: eur(500n),
        ttl: { seconds: 1n, nanos: 0 },
        description: '',
        reference: '',
      });
      expect((await balance(a)).available).toBe(-500n);
      await sleep(1_500);
      const { rows } = await db.query<{ held: string }>('SELECT held_minor::text AS held FROM accounts WHERE id = $1', [a]);
      expect(rows[0]?.held).toBe('0'); // released by the 200 ms sweeper without any call touching the account
      await expect(rejection(unaryCall(transfers, 'captureHold', { idempotencyKey: key(), holdId: hold!.id }))).resolves.toMatchObject({
        code: 'PAYMENTS.HOLD_EXPIRED',
      });
      expect(await balance(a)).toEqual({ ledger: 0n, held: 0n, available: 0n });
      await assertLedgerInvariants();
    });
  });

  describe('ReverseTransfer, release and decline of held transfers', () => {
    it('reverses once with a new opposite transfer; a second reversal is refused', async () => {
      const a = await openAccount(1_000n);
      const b = await openAccount();
      const t = await transfer(a, b, 70n);
      const { original, reversal } = await unaryCall(transfers, 'reverseTransfer', {
        idempotencyKey: key(),
        transferId: t.id,
        reason: 'duplicate',
      });
      expect(original).toMatchObject({ status: paymentsV1.TransferStatus.TRANSFER_STATUS_REVERSED, reversedByTransferId: reversal!.id });
      expect(reversal).toMatchObject({
        kind: paymentsV1.TransferKind.TRANSFER_KIND_REVERSAL,
        reversesTransferId: t.id,
        sourceAccountId: b,
        destinationAccountId: a,
      });
      await expect(
        rejection(unaryCall(transfers, 'reverseTransfer', { idempotencyKey: key(), transferId: t.id, reason: '' })),
      ).resolves.toMatchObject({ code: 'PAYMENTS.TRANSFER_ALREADY_REVERSED' });
      expect(await balance(a)).toMatchObject({ ledger: 0n });
      const { rows } = await db.query('SELECT count(*)::int AS n FROM postings WHERE transfer_id = $1', [t.id]);
      expect(rows[0]).toEqual({ n: 2 }); // the original's postings are untouched
    });

    it('release needs two distinct approvers and posts; decline releases the funds', async () => {
      const a = await openAccount(1_000n);
      const b = await openAccount();
      mode = 'REVIEW';
      const p1 = await transfer(a, b, 100n);
      const p2 = await transfer(a, b, 200n);
      await expect(
        rejection(
          unaryCall(transfers, 'releaseTransfer', {
            idempotencyKey: key(),
            transferId: p1.id,
            approvedBy: ['ann', 'ann'],
            note: '',
            alertId: '',
          }),
        ),
      ).resolves.toMatchObject({ code: 'PAYMENTS.FOUR_EYES_REQUIRED' });
      // Issue #13: a caller holding compliance's certificate that merely lists two names releases nothing; only
      // approvals recorded with the reviewers' own tokens count.
      await expect(
        rejection(
          unaryCall(transfers, 'releaseTransfer', {
            idempotencyKey: key(),
            transferId: p1.id,
            approvedBy: ['ann', 'bob'],
            note: '',
            alertId: '',
          }),
        ),
      ).resolves.toMatchObject({ code: 'PAYMENTS.FOUR_EYES_REQUIRED' });
      await expect(rejection(approveAs('olga', p1.id, ['operator']))).resolves.toMatchObject({ kind: 'PERMISSION_DENIED' });
      expect((await approveAs('ann', p1.id)).approvedBy).toEqual(['ann']);
      expect((await approveAs('ann', p1.id)).approvedBy).toEqual(['ann']); // the same reviewer again is still one
      await expect(
        rejection(
          unaryCall(transfers, 'releaseTransfer', {
            idempotencyKey: key(),
            transferId: p1.id,
            approvedBy: ['ann', 'bob'],
            note: '',
            alertId: '',
          }),
        ),
      ).resolves.toMatchObject({ code: 'PAYMENTS.FOUR_EYES_REQUIRED' });
      expect((await approveAs('bob', p1.id)).approvedBy).toEqual(['ann', 'bob']);
      const released = await unaryCall(transfers, 'releaseTransfer', {
        idempotencyKey: key(),
        transferId: p1.id,
        approvedBy: ['ann', 'bob'],
        note: 'ok',
        alertId: 'al-1',
      });
      expect(released.transfer?.status).toBe(paymentsV1.TransferStatus.TRANSFER_STATUS_POSTED);
      const declined = await unaryCall(transfers, 'declineHeldTransfer', {
        idempotencyKey: key(),
        transferId: p2.id,
        declinedBy: 'ann',
        note: 'no',
        alertId: 'al-2',
      });
      expect(declined.transfer?.status).toBe(paymentsV1.TransferStatus.TRANSFER_STATUS_DECLINED);
      expect(await balance(a)).toEqual({ ledger: -100n, held: 0n, available: -100n });
      await assertLedgerInvariants();
    });
  });

  describe('customer isolation (principal from a verified token, re-checked here)', () => {
    const customer = async (customerId: string) => ({
      metadata: (await auth.bearer(`user-${customerId}`, ['customer'], { customerId })).metadata,
    });
    const alice = `alice-${randomUUID()}`;
    const bob = `bob-${randomUUID()}`;

    it("answers another customer's account and balance exactly like a missing one (NOT_FOUND)", async () => {
      const mine = await openAccount(0n, 'EUR', alice);
      const theirs = await openAccount(0n, 'EUR', bob);
      const asAlice = await customer(alice);
      expect((await unaryCall(accounts, 'getAccount', { accountId: mine }, asAlice)).account?.ownerId).toBe(alice);
      const missing = await rejection(unaryCall(accounts, 'getAccount', { accountId: randomUUID() }, asAlice));
      const foreign = await rejection(unaryCall(accounts, 'getAccount', { accountId: theirs }, asAlice));
      expect([foreign.kind, foreign.code]).toEqual([missing.kind, missing.code]);
      expect(foreign).toMatchObject({ kind: 'NOT_FOUND', code: 'PAYMENTS.ACCOUNT_NOT_FOUND' });
      expect(await rejection(unaryCall(accounts, 'getBalance', { accountId: theirs }, asAlice))).toMatchObject({
        kind: 'NOT_FOUND',
        code: 'PAYMENTS.ACCOUNT_NOT_FOUND',
      });
      const listed = await unaryCall(
        accounts,
        'listAccounts',
        { page: { pageSize: 500, pageToken: '' }, ownerId: '', status: 0, currency: '' },
        asAlice,
      );
      expect(new Set(listed.accounts.map((a) => a.ownerId))).toEqual(new Set([alice]));
    });

    it("refuses moving money from another customer's account (PERMISSION_DENIED) and writes nothing; paying them is fine", async () => {
      const mine = await openAccount(1_000n, 'EUR', alice);
      const theirs = await openAccount(1_000n, 'EUR', bob);
      const asAlice = await customer(alice);
      const before = await footprint();
      const instruction = paymentsV1.TransferInstruction.fromPartial({
        sourceAccountId: theirs,
        destinationAccountId: mine,
        amount: eur(10n),
      });
      const stolen = await rejection(unaryCall(transfers, 'createTransfer', { idempotencyKey: key(), transfer: instruction }, asAlice));
      expect(stolen).toMatchObject({ kind: 'PERMISSION_DENIED', code: 'PAYMENTS.ACCOUNT_FORBIDDEN' });
      const batch = await rejection(
        unaryCall(
          transfers,
          'createTransferBatch',
          { idempotencyKey: key(), transfers: [{ ...instruction, sourceAccountId: mine, destinationAccountId: theirs }, instruction] },
          asAlice,
        ),
      );
      expect(batch.code).toBe('PAYMENTS.ACCOUNT_FORBIDDEN');
      expect(await footprint()).toEqual(before);

      const paid = await unaryCall(
        transfers,
        'createTransfer',
        { idempotencyKey: key(), transfer: { ...instruction, sourceAccountId: mine, destinationAccountId: theirs } },
        asAlice,
      );
      expect(paid.transfer?.status).toBe(paymentsV1.TransferStatus.TRANSFER_STATUS_POSTED);
      const { rows } = await db.query<{ actor: string }>(
        `SELECT actor FROM audit_records WHERE entity_id = $1 AND action = 'transfer.posted'`,
        [paid.transfer!.id],
      );
      expect(rows).toEqual([{ actor: `user-${alice}` }]);
    });

    it('shows a customer only transfers touching their accounts', async () => {
      const mine = await openAccount(1_000n, 'EUR', alice);
      const theirs = await openAccount(1_000n, 'EUR', bob);
      const third = await openAccount(0n, 'EUR', `carol-${randomUUID()}`);
      const incoming = await transfer(theirs, mine, 5n);
      const unrelated = await transfer(theirs, third, 6n);
      const asAlice = await customer(alice);
      expect((await unaryCall(transfers, 'getTransfer', { transferId: incoming.id }, asAlice)).transfer?.id).toBe(incoming.id);
      expect(await rejection(unaryCall(transfers, 'getTransfer', { transferId: unrelated.id }, asAlice))).toMatchObject({
        kind: 'NOT_FOUND',
        code: 'PAYMENTS.TRANSFER_NOT_FOUND',
      });
      const all = await unaryCall(
        transfers,
        'listTransfers',
        { page: { pageSize: 500, pageToken: '' }, accountId: '', status: 0, batchId: '' },
        asAlice,
      );
      expect(all.transfers.map((t) => t.id)).toContain(incoming.id);
      expect(all.transfers.map((t) => t.id)).not.toContain(unrelated.id);
      expect(
        await rejection(
          unaryCall(
            transfers,
            'listTransfers',
            { page: { pageSize: 10, pageToken: '' }, accountId: theirs, status: 0, batchId: '' },
            asAlice,
          ),
        ),
      ).toMatchObject({ kind: 'NOT_FOUND' });
    });

    it('refuses calls without a credential, and staff actions to customers', async () => {
      const bare = createGrpcClient(paymentsV1.AccountServiceClient, address, {
        retry: 'none',
        defaultDeadlineMs: 5_000,
        forwardAuth: false,
      });
      try {
        const noCredential = await rejection(unaryCall(bare, 'getAccount', { accountId: randomUUID() }));
        expect(noCredential).toMatchObject({ kind: 'UNAUTHENTICATED', code: 'AUTH.CREDENTIALS_REQUIRED' });
      } finally {
        bare.close();
      }
      const asAlice = await customer(alice);
      const open = await rejection(
        unaryCall(
          accounts,
          'openAccount',
          {
            idempotencyKey: key(),
            ownerId: alice,
            name: 'x',
            type: paymentsV1.AccountType.ACCOUNT_TYPE_LIABILITY,
            currency: 'EUR',
            overdraftLimitMinor: 0n,
            labels: {},
          },
          asAlice,
        ),
      );
      expect(open).toMatchObject({ kind: 'PERMISSION_DENIED', code: 'AUTH.SCOPE_REQUIRED' });
      const reverse = await rejection(
        unaryCall(transfers, 'reverseTransfer', { idempotencyKey: key(), transferId: randomUUID(), reason: 'mine' }, asAlice),
      );
      expect(reverse).toMatchObject({ kind: 'PERMISSION_DENIED', code: 'AUTH.ROLE_REQUIRED' });
    });
  });

  describe('CreateTransferBatch', () => {
    it('is all or nothing', async () => {
      const a = await openAccount(100n);
      const b = await openAccount();
      const before = await footprint();
      const bad = await rejection(
        unaryCall(transfers, 'createTransferBatch', {
          idempotencyKey: key(),
          transfers: [
            paymentsV1.TransferInstruction.fromPartial({ sourceAccountId: a, destinationAccountId: b, amount: eur(60n) }),
            paymentsV1.TransferInstruction.fromPartial({ sourceAccountId: a, destinationAccountId: b, amount: eur(60n) }),
          ],
        }),
      );
      expect(bad).toMatchObject({ code: 'PAYMENTS.INSUFFICIENT_FUNDS' });
      // Nothing moved; the refusal is kept under its key for replay, with its `batch.refused` audit record (issue #10).
      expect(await footprint()).toEqual({ ...before, keys: (before['keys'] ?? 0) + 1, audit: (before['audit'] ?? 0) + 1 });
      const ok = await unaryCall(transfers, 'createTransferBatch', {
        idempotencyKey: key(),
        transfers: [
          paymentsV1.TransferInstruction.fromPartial({ sourceAccountId: a, destinationAccountId: b, amount: eur(60n) }),
          paymentsV1.TransferInstruction.fromPartial({ sourceAccountId: b, destinationAccountId: a, amount: eur(10n) }),
        ],
      });
      expect(ok.transfers.map((t) => t.batchId)).toEqual([ok.batchId, ok.batchId]);
      const listed = await unaryCall(transfers, 'listTransfers', {
        batchId: ok.batchId,
        accountId: '',
        status: 0,
        page: { pageSize: 1, pageToken: '' },
      });
      expect(listed.transfers).toHaveLength(1);
      const next = await unaryCall(transfers, 'listTransfers', {
        batchId: ok.batchId,
        accountId: '',
        status: 0,
        page: { pageSize: 1, pageToken: listed.page!.nextPageToken },
      });
      expect(new Set([...listed.transfers, ...next.transfers].map((t) => t.id))).toEqual(new Set(ok.transfers.map((t) => t.id)));
    });
    it('screens in one call and applies the transfers in order, each funds check seeing the ones before it', async () => {
      // b and c start empty: b can pay c only after a paid b earlier in the same batch, and so on round the cycle.
      const a = await openAccount(1_000n);
      const b = await openAccount();
      const c = await openAccount();
      const cycle = Array.from({ length: 10 }, () => [
        { sourceAccountId: a, destinationAccountId: b, amount: eur(30n) },
        { sourceAccountId: b, destinationAccountId: c, amount: eur(20n) },
        { sourceAccountId: c, destinationAccountId: a, amount: eur(10n) },
      ]).flat();
      const before = { screened, screenBatches, footprint: await footprint() };
      const ok = await unaryCall(transfers, 'createTransferBatch', {
        idempotencyKey: key(),
        transfers: cycle.map((t) => paymentsV1.TransferInstruction.fromPartial(t)),
      });
      expect({ screened: screened - before.screened, batches: screenBatches - before.screenBatches }).toEqual({ screened: 30, batches: 1 });
      expect(ok.transfers.map((t) => [t.sourceAccountId, t.destinationAccountId, t.amount?.amountMinor])).toEqual(
        cycle.map((t) => [t.sourceAccountId, t.destinationAccountId, t.amount.amountMinor]),
      );
      expect(ok.transfers.every((t) => t.status === paymentsV1.TransferStatus.TRANSFER_STATUS_POSTED)).toBe(true);
      expect(await balance(a)).toEqual({ ledger: -200n, held: 0n, available: -200n });
      expect(await balance(b)).toEqual({ ledger: 100n, held: 0n, available: 100n });
      expect(await balance(c)).toEqual({ ledger: 100n, held: 0n, available: 100n });
      // Every leg counted on its account's version (opened at 0; one per posting, as if posted one by one).
      const { rows: versions } = await db.query<{ id: string; version: string }>(
        `SELECT id::text, version::text FROM accounts WHERE id = ANY($1::uuid[])`,
        [[a, b, c]],
      );
      expect(new Set(versions.map((v) => v.version))).toEqual(new Set(['20']));
      const after = await footprint();
      expect({
        transfers: after['transfers']! - before.footprint['transfers']!,
        postings: after['postings']! - before.footprint['postings']!,
        outbox: after['outbox']! - before.footprint['outbox']!,
      }).toEqual({ transfers: 30, postings: 60, outbox: 30 });
      // The outbox publishes in batch order (its seq follows the row order of the one INSERT).
      const { rows: events } = await db.query<{ key: string }>(
        `SELECT key FROM (SELECT seq, key FROM outbox_events ORDER BY seq DESC LIMIT 30) last ORDER BY seq`,
      );
      expect(events.map((e) => e.key)).toEqual(cycle.map((t) => t.sourceAccountId));
      await assertLedgerInvariants();
      // A batch that needs money only a later item would bring is refused whole, with nothing written.
      const refusedBefore = await footprint();
      const backwards = await rejection(
        unaryCall(transfers, 'createTransferBatch', {
          idempotencyKey: key(),
          transfers: [
            paymentsV1.TransferInstruction.fromPartial({ sourceAccountId: b, destinationAccountId: c, amount: eur(150n) }),
            paymentsV1.TransferInstruction.fromPartial({ sourceAccountId: a, destinationAccountId: b, amount: eur(100n) }),
          ],
        }),
      );
      expect(backwards).toMatchObject({ code: 'PAYMENTS.INSUFFICIENT_FUNDS', metadata: { accountId: b } });
      expect(await footprint()).toEqual({ ...refusedBefore, keys: refusedBefore['keys']! + 1, audit: refusedBefore['audit']! + 1 });
    });

    it('refuses the whole batch when screening fails, with one screening_failed record for the batch', async () => {
      const a = await openAccount(1_000n);
      const b = await openAccount();
      mode = 'ERROR';
      try {
        const before = await footprint();
        const failed = await rejection(
          unaryCall(transfers, 'createTransferBatch', {
            idempotencyKey: key(),
            transfers: [1n, 2n, 3n].map((n) =>
              paymentsV1.TransferInstruction.fromPartial({ sourceAccountId: a, destinationAccountId: b, amount: eur(n) }),
            ),
          }),
        );
        expect(failed).toMatchObject({ kind: 'UNAVAILABLE', code: 'PAYMENTS.COMPLIANCE_UNAVAILABLE' });
        expect(await footprint()).toEqual({ ...before, audit: before['audit']! + 1 });
        const { rows } = await db.query(
          `SELECT entity_type, payload->>'transfers' AS transfers FROM audit_records WHERE action = 'transfer.screening_failed' ORDER BY seq DESC LIMIT 1`,
        );
        expect(rows[0]).toEqual({ entity_type: 'batch', transfers: '3' });
      } finally {
        mode = 'APPROVE';
      }
    });
  });

  describe('CloseAccount', () => {
    it('refuses a non-zero balance or open holds, closes at zero', async () => {
      const a = await openAccount(100n);
      const b = await openAccount();
      await transfer(a, b, 5n);
      await expect(
        rejection(unaryCall(accounts, 'closeAccount', { idempotencyKey: key(), accountId: b, reason: '', expectedVersion: 0n })),
      ).resolves.toMatchObject({ code: 'PAYMENTS.ACCOUNT_NOT_EMPTY' });
      await transfer(b, a, 5n);
      const { hold } = await unaryCall(transfers, 'authorizeHold', {
        idempotencyKey: key(),
        accountId: a,
        destinationAccountId: b,
        amount: eur(1n),
        description: '',
        reference: '',
      });
      await expect(
        rejection(unaryCall(accounts, 'closeAccount', { idempotencyKey: key(), accountId: a, reason: '', expectedVersion: 0n })),
      ).resolves.toMatchObject({ code: 'PAYMENTS.ACCOUNT_HAS_OPEN_HOLDS' });
      await unaryCall(transfers, 'voidHold', { idempotencyKey: key(), holdId: hold!.id, reason: '' });
      const { account } = await unaryCall(accounts, 'closeAccount', {
        idempotencyKey: key(),
        accountId: a,
        reason: 'done',
        expectedVersion: 0n,
      });
      expect(account?.status).toBe(paymentsV1.AccountStatus.ACCOUNT_STATUS_CLOSED);
    });
  });

  describe('property: concurrent random operations keep the ledger consistent', () => {
    it('sum(postings) = 0, cached balance = its postings, held = open reservations, nothing below -overdraft', async () => {
      const op = fc.oneof(
        fc.record({
          kind: fc.constant('transfer' as const),
          from: fc.nat(3),
          to: fc.nat(3),
          amount: fc.bigInt(1n, 400n),
          release: fc.boolean(),
          retries: fc.nat(2),
        }),
        fc.record({
          kind: fc.constant('hold' as const),
          from: fc.nat(3),
          to: fc.nat(3),
          amount: fc.bigInt(1n, 400n),
          then: fc.constantFrom('capture', 'void', 'partial'),
        }),
        fc.record({ kind: fc.constant('reverse' as const), from: fc.nat(3), to: fc.nat(3), amount: fc.bigInt(1n, 400n) }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(fc.array(op, { minLength: 2, maxLength: 6 }), { minLength: 2, maxLength: 5 }), async (rounds) => {
          mode = 'APPROVE';
          const ids = [await openAccount(300n), await openAccount(0n), await openAccount(150n), await openAccount(50n)];
          await transfer(ids[0]!, ids[1]!, 101n); // give the non-overdraft account something to spend
          mode = 'BY_AMOUNT';
          for (const round of rounds) {
            // Each round's operations race on the same few accounts; refusals are fine, inconsistency is not.
            await Promise.all(
              round.map(async (o) => {
                const from = ids[o.from]!;
                const to = ids[o.to === o.from ? (o.to + 1) % 4 : o.to]!;
                try {
                  if (o.kind === 'transfer') {
                    const k = key();
                    // Concurrent retries of one key must all see one transfer.
                    const same = await Promise.all(Array.from({ length: o.retries + 1 }, () => transfer(from, to, o.amount, k)));
                    expect(new Set(same.map((t) => t.id)).size).toBe(1);
                    const t = same[0]!;
                    if (t.status === paymentsV1.TransferStatus.TRANSFER_STATUS_PENDING) {
                      if (o.release) {
                        await approveAs('ann', t.id);
                        await approveAs('bob', t.id);
                        await unaryCall(transfers, 'releaseTransfer', {
                          idempotencyKey: key(),
                          transferId: t.id,
                          approvedBy: ['ann', 'bob'],
                          note: '',
                          alertId: '',
                        });
                      } else
                        await unaryCall(transfers, 'declineHeldTransfer', {
                          idempotencyKey: key(),
                          transferId: t.id,
                          declinedBy: 'ann',
                          note: '',
                          alertId: '',
                        });
                    }
                  } else if (o.kind === 'hold') {
                    const { hold } = await unaryCall(transfers, 'authorizeHold', {
                      idempotencyKey: key(),
                      accountId: from,
                      destinationAccountId: to,
                      amount: eur(o.amount),
                      description: '',
                      reference: '',
                    });
                    if (o.then === 'void') await unaryCall(transfers, 'voidHold', { idempotencyKey: key(), holdId: hold!.id, reason: '' });
                    else
                      await unaryCall(transfers, 'captureHold', {
                        idempotencyKey: key(),
                        holdId: hold!.id,
                        ...(o.then === 'partial' ? { amount: eur((o.amount + 1n) / 2n) } : {}),
                      });
                  } else {
                    const t = await transfer(from, to, o.amount);
                    if (t.status !== paymentsV1.TransferStatus.TRANSFER_STATUS_POSTED) return;
                    await unaryCall(transfers, 'reverseTransfer', { idempotencyKey: key(), transferId: t.id, reason: 'prop' });
                  }
                } catch (err) {
                  // Legitimate refusals: no funds, or compliance declined a hold outright.
                  if (!(err instanceof AppError) || !['PAYMENTS.INSUFFICIENT_FUNDS', 'PAYMENTS.COMPLIANCE_DECLINED'].includes(err.code))
                    throw err;
                }
              }),
            );
          }
          await assertLedgerInvariants();
        }),
        { numRuns: 20 },
      );
    });
  });
  describe('hot accounts', () => {
    it('60 concurrent transfers on one account pair: every one posts, no lost update', async () => {
      const a = await openAccount(1_000_000n);
      const b = await openAccount(1_000_000n);
      const started = Date.now();
      await Promise.all(Array.from({ length: 60 }, (_, i) => transfer(i % 2 ? a : b, i % 2 ? b : a, 1_000n + BigInt(i))));
      const elapsed = Date.now() - started;
      const expected = Array.from({ length: 60 }, (_, i) => (i % 2 ? 1_000n + BigInt(i) : -(1_000n + BigInt(i)))).reduce(
        (x, y) => x + y,
        0n,
      );
      expect((await balance(b)).ledger).toBe(expected);
      expect(elapsed).toBeLessThan(20_000);
      await assertLedgerInvariants();
    });
  });

  describe('compliance down', () => {
    it('refuses with COMPLIANCE_UNAVAILABLE within the deadline when nothing listens, and writes only the refusal audit', async () => {
      const a = await openAccount(1_000n);
      const b = await openAccount();
      await compliance.shutdown();
      const before = await footprint();
      const started = Date.now();
      await expect(rejection(transfer(a, b, 10n))).resolves.toMatchObject({ kind: 'UNAVAILABLE', code: 'PAYMENTS.COMPLIANCE_UNAVAILABLE' });
      expect(Date.now() - started).toBeLessThan(SCREEN_DEADLINE_MS * 4);
      const after = await footprint();
      expect({ ...after, audit: 0 }).toEqual({ ...before, audit: 0 });
      expect(after['audit']! - before['audit']!).toBe(1);
    });
  });
});
