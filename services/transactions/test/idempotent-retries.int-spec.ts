/**
 * RETRIES ARE PART OF THE CONTRACT (issue #10, defects 1 and 2): the real transactions service as a child
 * process, screened by an in-test ComplianceService that keeps compliance's own idempotency rule (same screening
 * key + another subject = COMPLIANCE.IDEMPOTENCY_KEY_REUSED). Every attempt of one request (same idempotency key,
 * same body) must end with the same answer: the one committed transfer, or the one stored refusal.
 *
 * Before the fix each attempt screened under a fresh random reference id, so 19 of 20 concurrent attempts got 503
 * PAYMENTS.COMPLIANCE_UNAVAILABLE, and a refused transfer answered 503 forever on retry.
 */
import { randomUUID } from 'node:crypto';
import { paymentsV1 } from '@tessera/contracts';
import { Metadata } from '@grpc/grpc-js';
import { unaryCall } from '@tessera/grpc';
import { isAppError } from '@tessera/errors';
import type { approvingCompliance } from '@tessera/testing';
import { type ServiceUnderTest, startServiceUnderTest } from './support/service-under-test';
import type { ThrowawayDb } from './support/throwaway-db';

jest.setTimeout(120_000);

const PARALLEL = 20;
let db: ThrowawayDb;
let compliance: Awaited<ReturnType<typeof approvingCompliance>>;
let svc: ServiceUnderTest | undefined;
let accounts: paymentsV1.AccountServiceClient;
let transfers: paymentsV1.TransferServiceClient;
const run = randomUUID().slice(0, 8);

const open = async (overdraftLimitMinor = 0n) =>
  (
    await unaryCall(accounts, 'openAccount', {
      idempotencyKey: `open-${randomUUID()}`,
      ownerId: `retries-${run}`,
      name: 'retries',
      type: paymentsV1.AccountType.ACCOUNT_TYPE_LIABILITY,
      currency: 'EUR',
      overdraftLimitMinor,
      labels: {},
    })
  ).account!.id;

const instruction = (sourceAccountId: string, destinationAccountId: string, amountMinor: bigint, reference = '') =>
  paymentsV1.TransferInstruction.fromPartial({
    sourceAccountId,
    destinationAccountId,
    amount: { amountMinor, currency: 'EUR' },
    reference,
  });

/** Settles every promise and reduces each to a comparable outcome: the transfer id(s) or the error code. */
async function outcomes<T>(attempts: Promise<T>[], idOf: (r: T) => string): Promise<string[]> {
  const settled = await Promise.allSettled(attempts);
  return settled.map((s) =>
    s.status === 'fulfilled'
      ? `ok:${idOf(s.value)}`
      : `error:${isAppError(s.reason) ? `${s.reason.kind}:${s.reason.code}` : String(s.reason)}`,
  );
}

let funder = '';

beforeAll(async () => {
  svc = await startServiceUnderTest('retries');
  ({ db, compliance, accounts, transfers } = svc);
  funder = await open(10n ** 12n);
});

afterAll(() => svc?.stop());

describe('concurrent attempts of one request', () => {
  it(`${PARALLEL} parallel CreateTransfer calls with one key and body all get the one committed transfer`, async () => {
    const destination = await open();
    const key = `same-${run}-single`;
    const request = { idempotencyKey: key, transfer: instruction(funder, destination, 1_234n, key) };
    const got = await outcomes(
      Array.from({ length: PARALLEL }, () => unaryCall(transfers, 'createTransfer', request)),
      (r) => r.transfer!.id,
    );
    const [first] = got;
    expect(first).toMatch(/^ok:/);
    expect(got).toEqual(Array(PARALLEL).fill(first));
    const { rows } = await db.client.query<{ id: string; status: string }>('SELECT id, status FROM transfers WHERE reference = $1', [key]);
    expect(rows).toEqual([{ id: first!.slice(3), status: 'POSTED' }]);
    const { rows: balance } = await db.client.query<{ b: string }>('SELECT balance_minor::text AS b FROM accounts WHERE id = $1', [
      destination,
    ]);
    expect(balance[0]?.b).toBe('1234');

    // The same key with another body is the caller's mistake: a definite 422-class refusal, not a 503.
    const reused = await outcomes(
      [unaryCall(transfers, 'createTransfer', { idempotencyKey: key, transfer: instruction(funder, destination, 99n, key) })],
      () => '',
    );
    expect(reused).toEqual(['error:FAILED_PRECONDITION:PAYMENTS.IDEMPOTENCY_KEY_REUSED']);
  });

  it(`${PARALLEL} parallel CreateTransferBatch calls with one key and body all get the one committed batch`, async () => {
    const [a, b] = [await open(), await open()];
    const key = `same-${run}-batch`;
    const request = { idempotencyKey: key, transfers: [instruction(funder, a, 10n, `${key}-0`), instruction(funder, b, 20n, `${key}-1`)] };
    const got = await outcomes(
      Array.from({ length: PARALLEL }, () => unaryCall(transfers, 'createTransferBatch', request)),
      (r) => `${r.batchId}/${r.transfers.map((t) => t.id).join(',')}`,
    );
    const [first] = got;
    expect(first).toMatch(/^ok:/);
    expect(got).toEqual(Array(PARALLEL).fill(first));
    const { rows } = await db.client.query<{ n: string }>('SELECT count(*)::text AS n FROM transfers WHERE reference LIKE $1', [
      `${key}-%`,
    ]);
    expect(rows[0]?.n).toBe('2');
  });

  it(`${PARALLEL} parallel AuthorizeHold calls with one key and body all get the one committed hold`, async () => {
    const destination = await open();
    const request = paymentsV1.AuthorizeHoldRequest.fromPartial({
      idempotencyKey: `same-${run}-hold`,
      accountId: funder,
      destinationAccountId: destination,
      amount: { amountMinor: 500n, currency: 'EUR' },
      reference: `hold-${run}`,
    });
    const got = await outcomes(
      Array.from({ length: PARALLEL }, () => unaryCall(transfers, 'authorizeHold', request)),
      (r) => r.hold!.id,
    );
    const [first] = got;
    expect(first).toMatch(/^ok:/);
    expect(got).toEqual(Array(PARALLEL).fill(first));
    const { rows } = await db.client.query<{ n: string }>('SELECT count(*)::text AS n FROM holds WHERE reference = $1', [`hold-${run}`]);
    expect(rows[0]?.n).toBe('1');
  });
});

describe('a refused request, retried', () => {
  it('replays the same refusal to every retry, even after the refusal reason went away, and audits it once', async () => {
    const [empty, destination] = [await open(), await open()];
    const key = `refused-${run}`;
    const request = { idempotencyKey: key, transfer: instruction(empty, destination, 700n, key) };
    const first = await outcomes([unaryCall(transfers, 'createTransfer', request)], () => '');
    expect(first).toEqual(['error:FAILED_PRECONDITION:PAYMENTS.INSUFFICIENT_FUNDS']);

    const retries = await outcomes(
      Array.from({ length: PARALLEL }, () => unaryCall(transfers, 'createTransfer', request)),
      () => '',
    );
    expect(retries).toEqual(Array(PARALLEL).fill(first[0]));

    // Funds arrive; the old request still answers what it answered (a new key is a new request).
    await unaryCall(transfers, 'createTransfer', { idempotencyKey: `fund-${key}`, transfer: instruction(funder, empty, 10_000n) });
    expect(await outcomes([unaryCall(transfers, 'createTransfer', request)], () => '')).toEqual(first);
    const fresh = await unaryCall(transfers, 'createTransfer', {
      idempotencyKey: `${key}-again`,
      transfer: instruction(empty, destination, 700n, `${key}-again`),
    });
    expect(fresh.transfer?.status).toBe(paymentsV1.TransferStatus.TRANSFER_STATUS_POSTED);

    const { rows: posted } = await db.client.query<{ n: string }>('SELECT count(*)::text AS n FROM transfers WHERE reference = $1', [key]);
    expect(posted[0]?.n).toBe('0');
    const { rows: audit } = await db.client.query<{ action: string; code: string }>(
      `SELECT action, payload->>'code' AS code FROM audit_records WHERE action = 'transfer.refused' AND payload->>'accountId' = $1`,
      [empty],
    );
    expect(audit).toEqual([{ action: 'transfer.refused', code: 'PAYMENTS.INSUFFICIENT_FUNDS' }]);
    // Audit records are staged and chained at COMMIT: nothing stays staged, committed or rolled back.
    const { rows: staged } = await db.client.query<{ n: string }>('SELECT count(*)::text AS n FROM audit_pending');
    expect(staged[0]?.n).toBe('0');
    // Screened once per request, whatever the number of attempts: retries replay before screening.
    expect(compliance.decided()).toBeGreaterThan(0);
  });
});

describe("keys are the caller's own (issue #13, defect 5)", () => {
  it('another caller reusing a key gets its own transfer, learns nothing of the first and cannot block it; each retry replays its own', async () => {
    const destination = await open();
    const key = `shared-${run}`;
    const other = new Metadata();
    other.set('authorization', `Bearer ${await svc!.auth.issuer.mint({ sub: `other-caller-${run}`, roles: ['operator'], ttlSec: 600 })}`);
    const mine = (amount: bigint) => ({ idempotencyKey: key, transfer: instruction(funder, destination, amount, `${key}-mine`) });
    const theirs = (amount: bigint) => ({ idempotencyKey: key, transfer: instruction(funder, destination, amount, `${key}-theirs`) });

    const first = await unaryCall(transfers, 'createTransfer', mine(100n));
    // Before: PAYMENTS.IDEMPOTENCY_KEY_REUSED (the key's existence leaked, and the other caller was blocked).
    const second = await unaryCall(transfers, 'createTransfer', theirs(250n), { metadata: other });
    expect(second.transfer!.id).not.toBe(first.transfer!.id);
    expect(second.transfer!.amount?.amountMinor).toBe(250n);

    // Replay rules unchanged, per caller: a retry gets its own first answer, another body its own refusal.
    expect((await unaryCall(transfers, 'createTransfer', mine(100n))).transfer!.id).toBe(first.transfer!.id);
    expect((await unaryCall(transfers, 'createTransfer', theirs(250n), { metadata: other })).transfer!.id).toBe(second.transfer!.id);
    expect(await outcomes([unaryCall(transfers, 'createTransfer', mine(999n))], () => '')).toEqual([
      'error:FAILED_PRECONDITION:PAYMENTS.IDEMPOTENCY_KEY_REUSED',
    ]);

    const { rows } = await db.client.query<{ b: string }>('SELECT balance_minor::text AS b FROM accounts WHERE id = $1', [destination]);
    expect(rows[0]?.b).toBe('350');
  });

  it('replays a key committed before keys were scoped per caller, for as long as it lives (no second transfer across the upgrade)', async () => {
    const destination = await open();
    const key = `legacy-${run}`;
    const request = { idempotencyKey: key, transfer: instruction(funder, destination, 77n, key) };
    const committed = await unaryCall(transfers, 'createTransfer', request);
    // What the row looked like before the upgrade: the RPC alone as its scope. The service reads the legacy window at
    // its first idempotent call, so the row must be legacy before the restart below.
    await db.client.query(`UPDATE idempotency_keys SET scope = split_part(scope, '@', 1) WHERE key = $1`, [key]);
    await svc!.restart();
    expect((await unaryCall(transfers, 'createTransfer', request)).transfer!.id).toBe(committed.transfer!.id);
    const { rows } = await db.client.query<{ n: string }>('SELECT count(*)::text AS n FROM transfers WHERE reference = $1', [key]);
    expect(rows[0]?.n).toBe('1');
  });
});
