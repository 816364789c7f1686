/**
 * CONCURRENT SCREENINGS SHARE CALLS (issue #10): the real transactions service as a child process with one screening
 * call in flight at a time (TRANSACTIONS_SCREEN_IN_FLIGHT=1), screened by the in-test ComplianceService answering after
 * 150 ms, so transfers that arrive while a call is out must wait and go together in one ScreenBatch call. Each one
 * still gets its own decision, and a refusal one transfer causes (its key reused for another body) is never passed
 * to the transfers it shared a call with.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { paymentsV1 } from '@tessera/contracts';
import { createGrpcClient, unaryCall } from '@tessera/grpc';
import { isAppError } from '@tessera/errors';
import { startTestAuth, type TestAuth } from '@tessera/auth';
import { sendAs, staffAuthorization } from './support/auth-client';
import { approvingCompliance, buildTransactions, deletePingsGroup, freePort, startTransactions, stopAndCleanUp } from './support/service-process';
import { throwawayDb, type ThrowawayDb } from './support/throwaway-db';

jest.setTimeout(120_000);

let db: ThrowawayDb;
let auth: TestAuth;
let compliance: Awaited<ReturnType<typeof approvingCompliance>>;
let child: ChildProcess | undefined;
let accounts: paymentsV1.AccountServiceClient;
let transfers: paymentsV1.TransferServiceClient;
const run = randomUUID().slice(0, 8);
let funder = '';
let destination = '';

const open = async (overdraftLimitMinor = 0n) =>
  (await unaryCall(accounts, 'openAccount', {
    idempotencyKey: `open-${randomUUID()}`, ownerId: `coalesce-${run}`, name: 'coalesce', type: paymentsV1.AccountType.ACCOUNT_TYPE_LIABILITY, currency: 'EUR', overdraftLimitMinor, labels: {},
  })).account!.id;

const transfer = (key: string, amountMinor: bigint) =>
  unaryCall(transfers, 'createTransfer', {
    idempotencyKey: key,
    transfer: paymentsV1.TransferInstruction.fromPartial({ sourceAccountId: funder, destinationAccountId: destination, amount: { amountMinor, currency: 'EUR' }, reference: key }),
  });

const outcome = async (p: Promise<paymentsV1.CreateTransferResponse>): Promise<string> => {
  try {
    const r = await p;
    return `${r.transfer!.status === paymentsV1.TransferStatus.TRANSFER_STATUS_POSTED ? 'posted' : 'other'}`;
  } catch (err) {
    return isAppError(err) ? err.code : String(err);
  }
};

beforeAll(async () => {
  buildTransactions();
  auth = await startTestAuth();
  const staff = await staffAuthorization(auth);
  db = await throwawayDb('coalesce');
  compliance = await approvingCompliance({ latencyMs: 150 });
  const port = await freePort();
  child = await startTransactions({
    port, databaseUrl: db.url, complianceAddr: `127.0.0.1:${compliance.port}`, auth,
    env: { TRANSACTIONS_SCREEN_IN_FLIGHT: '1', TRANSACTIONS_SCREEN_COALESCE_MAX: '32', TRANSACTIONS_SCREEN_DEADLINE_MS: '5000' },
  });
  const address = `127.0.0.1:${port}`;
  const options = { retry: 'none' as const, defaultDeadlineMs: 15_000, ...sendAs(staff) };
  accounts = createGrpcClient(paymentsV1.AccountServiceClient, address, options);
  transfers = createGrpcClient(paymentsV1.TransferServiceClient, address, options);
  funder = await open(10n ** 12n);
  destination = await open();
});

afterAll(async () => {
  accounts?.close();
  transfers?.close();
  await stopAndCleanUp(child);
  await compliance?.shutdown();
  await db?.drop();
  await deletePingsGroup();
  auth?.close();
});

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
