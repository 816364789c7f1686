/**
 * CONCURRENT TRANSFERS SHARE CALLS AND TRANSACTIONS (issue #10): the real transactions service as a child process with
 * one screening call and one posting transaction in flight at a time (TRANSACTIONS_SCREEN_IN_FLIGHT=1,
 * TRANSACTIONS_POST_IN_FLIGHT=1), screened by the in-test ComplianceService answering after 150 ms, so transfers that
 * arrive while a call is out must wait and go together in one ScreenBatch call, and then in one database transaction
 * (rows written by one transaction share their `xmin`). Each one still gets its own decision and its own outcome, and
 * a refusal one transfer causes (its key reused, its funds short) is never passed to the transfers it shared with.
 */
import { randomUUID } from 'node:crypto';
import { paymentsV1 } from '@tessera/contracts';
import { createGrpcClient, unaryCall } from '@tessera/grpc';
import { isAppError } from '@tessera/errors';
import type { TestAuth } from '@tessera/auth';
import { sendAs } from './support/auth-client';
import type { approvingCompliance } from '@tessera/testing';
import { type ServiceUnderTest, startServiceUnderTest } from './support/service-under-test';
import type { ThrowawayDb } from './support/throwaway-db';

jest.setTimeout(120_000);

let db: ThrowawayDb;
let auth: TestAuth;
let compliance: Awaited<ReturnType<typeof approvingCompliance>>;
let svc: ServiceUnderTest | undefined;
let accounts: paymentsV1.AccountServiceClient;
let transfers: paymentsV1.TransferServiceClient;
const run = randomUUID().slice(0, 8);
let funder = '';
let destination = '';
let address = '';

const open = async (overdraftLimitMinor = 0n) =>
  (
    await unaryCall(accounts, 'openAccount', {
      idempotencyKey: `open-${randomUUID()}`,
      ownerId: `coalesce-${run}`,
      name: 'coalesce',
      type: paymentsV1.AccountType.ACCOUNT_TYPE_LIABILITY,
      currency: 'EUR',
      overdraftLimitMinor,
      labels: {},
    })
  ).account!.id;

const transfer = (key: string, amountMinor: bigint, from = funder, to = destination) =>
  unaryCall(transfers, 'createTransfer', {
    idempotencyKey: key,
    transfer: paymentsV1.TransferInstruction.fromPartial({
      sourceAccountId: from,
      destinationAccountId: to,
      amount: { amountMinor, currency: 'EUR' },
      reference: key,
    }),
  });

/** How many database transactions wrote these transfers (rows one transaction wrote share its xmin). */
const transactionsOf = async (ids: string[]) =>
  Number(
    (await db.client.query<{ n: string }>('SELECT count(DISTINCT xmin::text) AS n FROM transfers WHERE id = ANY($1::uuid[])', [ids]))
      .rows[0]?.n,
  );

const outcome = async (p: Promise<paymentsV1.CreateTransferResponse>): Promise<string> => {
  try {
    const r = await p;
    return `${r.transfer!.status === paymentsV1.TransferStatus.TRANSFER_STATUS_POSTED ? 'posted' : 'other'}`;
  } catch (err) {
    return isAppError(err) ? err.code : String(err);
  }
};

beforeAll(async () => {
  svc = await startServiceUnderTest('coalesce', {
    compliance: { latencyMs: 150 },
    env: {
      TRANSACTIONS_SCREEN_IN_FLIGHT: '1',
      TRANSACTIONS_SCREEN_COALESCE_MAX: '32',
      TRANSACTIONS_SCREEN_DEADLINE_MS: '5000',
      TRANSACTIONS_POST_IN_FLIGHT: '1',
    },
  });
  ({ db, auth, compliance, accounts, transfers } = svc);
  address = svc.address;
  funder = await open(10n ** 12n);
  destination = await open();
});

afterAll(() => svc?.stop());

describe('ComplianceClient.screen under concurrency', () => {
  it('screens 24 concurrent transfers in fewer calls than transfers, each with its own decision', async () => {
    const before = compliance.calls();
    const keys = Array.from({ length: 24 }, (_, i) => `co-${run}-${i}`);
    const done = await Promise.all(keys.map((k, i) => transfer(k, 100n + BigInt(i))));
    const after = compliance.calls();
    const calls = after.screen - before.screen + (after.screenBatch - before.screenBatch);
    expect(done.every((r) => r.transfer!.status === paymentsV1.TransferStatus.TRANSFER_STATUS_POSTED)).toBe(true);
    expect(new Set(done.map((r) => r.transfer!.screeningId)).size).toBe(24);
    expect(after.screenBatch - before.screenBatch).toBeGreaterThanOrEqual(1);
    expect(calls).toBeLessThan(24);
    expect(await transactionsOf(done.map((r) => r.transfer!.id))).toBeLessThan(24);
    // Every one of them was decided under its own key: a retry replays its transfer without a new screening.
    const screenedBefore = compliance.screened();
    const again = await transfer(keys[5] as string, 105n);
    expect(again.transfer!.id).toBe(done[5]!.transfer!.id);
    expect(compliance.screened()).toBe(screenedBefore);
  });

  it('gives a reused key its refusal alone, and the transfers that shared its call their transfers', async () => {
    const reused = `co-${run}-reused`;
    // Call 1 (in flight for 150 ms): the key's first use and three others.
    const first = [transfer(reused, 500n), ...[1, 2, 3].map((i) => transfer(`co-${run}-a${i}`, 10n))];
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Queued behind it, so sent together once it returns: the same key with another amount, and three others.
    const second = [transfer(reused, 501n), ...[1, 2, 3].map((i) => transfer(`co-${run}-b${i}`, 10n))];
    const got = await Promise.all([...first, ...second].map(outcome));
    expect(got).toEqual(['posted', 'posted', 'posted', 'posted', 'PAYMENTS.IDEMPOTENCY_KEY_REUSED', 'posted', 'posted', 'posted']);
  });

  it("never puts two users' screenings in one call: compliance records the forwarded user as each decision's actor", async () => {
    const users = await Promise.all(
      ['alice', 'bob'].map(async (sub) => `Bearer ${await auth.issuer.mint({ sub: `${sub}-${run}`, roles: ['operator'], ttlSec: 600 })}`),
    );
    const clients = users.map((authorization) =>
      createGrpcClient(paymentsV1.TransferServiceClient, address, {
        retry: 'none' as const,
        defaultDeadlineMs: 15_000,
        ...sendAs(authorization),
      }),
    );
    const keysOf = users.map((_, u) => Array.from({ length: 6 }, (_, i) => `co-${run}-user${u}-${i}`));
    const logBefore = compliance.log().length;
    await Promise.all(
      keysOf.flatMap((keys, u) =>
        keys.map((key) =>
          unaryCall(clients[u] as paymentsV1.TransferServiceClient, 'createTransfer', {
            idempotencyKey: key,
            transfer: paymentsV1.TransferInstruction.fromPartial({
              sourceAccountId: funder,
              destinationAccountId: destination,
              amount: { amountMinor: 3n, currency: 'EUR' },
              reference: key,
            }),
          }),
        ),
      ),
    );
    for (const c of clients) c.close();
    const calls = compliance
      .log()
      .slice(logBefore)
      .filter((c) => c.keys.some((k) => k.includes(`co-${run}-user`)));
    for (const call of calls) {
      const owner = users.findIndex((_, u) => call.keys.every((k) => keysOf[u]!.some((key) => k.endsWith(`:${key}`))));
      expect(owner).toBeGreaterThanOrEqual(0);
      expect(call.authorization).toBe(users[owner]);
    }
    // And each user's screenings still shared calls.
    expect(calls.length).toBeLessThan(12);
  });

  it('screens the same request sent twice in one call once', async () => {
    const key = `co-${run}-twice`;
    const decidedBefore = compliance.decided();
    const holder = transfer(`co-${run}-holder`, 10n);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const [a, b, c] = await Promise.all([transfer(key, 700n), transfer(key, 700n), transfer(`co-${run}-other`, 10n)]);
    await holder;
    expect(a.transfer!.id).toBe(b.transfer!.id);
    expect(c.transfer!.status).toBe(paymentsV1.TransferStatus.TRANSFER_STATUS_POSTED);
    // The holder, the request (decided once, replayed to its twin) and the other one.
    expect(compliance.decided() - decidedBefore).toBe(3);
  });
});

describe('PostingCoalescer.post under concurrency', () => {
  it('refuses only the transfers the balance cannot cover, in arrival order, and replays each outcome', async () => {
    const source = await open();
    const target = await open();
    await transfer(`co-${run}-fund`, 500n, funder, source);
    // Eight transfers of 100 from a balance of 500, posted together: the first five in the group's order post.
    const keys = Array.from({ length: 8 }, (_, i) => `co-${run}-short-${i}`);
    const got = await Promise.all(keys.map((k) => outcome(transfer(k, 100n, source, target))));
    expect(got.filter((o) => o === 'posted')).toHaveLength(5);
    expect(got.filter((o) => o === 'PAYMENTS.INSUFFICIENT_FUNDS')).toHaveLength(3);
    const posted = (
      await db.client.query<{ id: string; reference: string }>(
        "SELECT id::text, reference FROM transfers WHERE source_account_id = $1 AND status = 'POSTED'",
        [source],
      )
    ).rows;
    expect(posted).toHaveLength(5);
    expect(await transactionsOf(posted.map((p) => p.id))).toBeLessThan(5);
    // Balances: the source is empty, the target got exactly what was posted, and every transfer's postings sum to zero.
    const balance = async (id: string) =>
      (await db.client.query<{ b: string }>('SELECT balance_minor::text AS b FROM accounts WHERE id = $1', [id])).rows[0]?.b;
    expect(await balance(source)).toBe('0');
    expect(await balance(target)).toBe('500');
    const unbalanced = await db.client.query(
      "SELECT transfer_id FROM postings GROUP BY transfer_id HAVING sum(CASE direction WHEN 'DEBIT' THEN -amount_minor ELSE amount_minor END) <> 0",
    );
    expect(unbalanced.rowCount).toBe(0);
    // Each retry gets its own first answer: the posted ones their transfer, the refused ones their refusal (stored, audited).
    const again = await Promise.all(keys.map((k) => outcome(transfer(k, 100n, source, target))));
    expect(again).toEqual(got);
    const refusedAudit = await db.client.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM audit_records WHERE action = 'transfer.refused' AND payload->>'code' = 'PAYMENTS.INSUFFICIENT_FUNDS' AND payload->>'accountId' = $1",
      [source],
    );
    expect(refusedAudit.rows[0]?.n).toBe(3);
  });

  it('gives each transfer of a shared transaction its own caller and trace in the audit trail and the outbox', async () => {
    const keys = Array.from({ length: 6 }, (_, i) => `co-${run}-ctx-${i}`);
    const done = await Promise.all(keys.map((k) => transfer(k, 7n)));
    const ids = done.map((r) => r.transfer!.id);
    expect(await transactionsOf(ids)).toBeLessThan(6);
    const traces = (
      await db.client.query<{ trace_id: string | null }>('SELECT trace_id FROM transfers WHERE id = ANY($1::uuid[])', [ids])
    ).rows.map((r) => r.trace_id);
    expect(new Set(traces).size).toBe(6);
    const actors = (
      await db.client.query<{ actor: string }>(
        "SELECT DISTINCT actor FROM audit_records WHERE action = 'transfer.posted' AND entity_id = ANY($1::text[])",
        [ids],
      )
    ).rows;
    expect(actors.map((a) => a.actor)).toEqual([expect.stringMatching(/\S/)]);
  });
});
