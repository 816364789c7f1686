/**
 * PII is never logged nor stored in clear (issue #3): the real transactions service as a child process at
 * the most verbose log level, accounts opened with a holder and transfers with a counterparty (success,
 * replay and refusal paths, where leaks usually hide). Then neither the captured stdout/stderr nor a dump
 * of every row of every table (bytea scanned as hex, i.e. as the raw bytes) contains the personal data,
 * while the service still works and the vault, with the configured key, opens exactly what was sealed.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { paymentsV1 } from '@tessera/contracts';
import { AppError } from '@tessera/errors';
import { createGrpcClient, unaryCall } from '@tessera/grpc';
import { parsePiiKeys } from '../src/pii/pii-keyring';
import { PiiVault } from '../src/pii/pii-vault';
import { sendAs, staffAuthorization } from './support/auth-client';
import { startTestAuth, type TestAuth } from '@tessera/auth';
import { buildTransactions, startTransactions, stopAndCleanUp, until } from './support/service-process';
import { approvingCompliance } from '@tessera/testing';
import { freePort } from '@tessera/testing';
import { throwawayDb, type ThrowawayDb } from './support/throwaway-db';

jest.setTimeout(90_000);

const KEYS = `kpii:${randomBytes(32).toString('base64')}`;
const holder = {
  fullName: 'Quintessa Vordelmaier-Okonkwo',
  address: '17 Rue des Zephyrs Lugdunum',
  nationalId: 'NID7Q4X9Z2K81',
  country: 'FR',
};
const counterparty = { name: 'Bartholomew Xanthopoulos-Grunewald', country: 'DE' };
/** Each piece of personal data on its own, so a partial leak (e.g. only the surname) is caught too. */
const NEEDLES = ['Quintessa', 'Vordelmaier', 'Okonkwo', 'Zephyrs Lugdunum', 'NID7Q4X9Z2K81', 'Bartholomew', 'Xanthopoulos', 'Grunewald'];
/** Not PII: must show up, proving the log capture and the dump (text and bytea) really see the data. */
const VISIBLE_OWNER = `owner-visible-${randomUUID().slice(0, 8)}`;

const hex = (s: string) => Buffer.from(s, 'utf8').toString('hex');

let db: ThrowawayDb;
let auth: TestAuth;
let staff = '';
let compliance: Awaited<ReturnType<typeof approvingCompliance>>;
let child: ChildProcess | undefined;
let output = '';
let port: number;

beforeAll(async () => {
  buildTransactions();
  auth = await startTestAuth();
  staff = await staffAuthorization(auth);
  db = await throwawayDb('piiexposure');
  compliance = await approvingCompliance();
  port = await freePort();
  child = await startTransactions({
    port,
    databaseUrl: db.url,
    complianceAddr: `127.0.0.1:${compliance.port}`,
    auth,
    env: { LOG_LEVEL: 'trace', TRANSACTIONS_PII_KEYS: KEYS },
    onOutput: (chunk) => (output += chunk),
  });
});

afterAll(async () => {
  await stopAndCleanUp(child);
  await compliance?.shutdown();
  await db?.drop();
  auth?.close();
});

async function refusal(p: Promise<unknown>): Promise<AppError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error instanceof AppError) return error;
  throw new Error(`expected an AppError, got ${String(error)}`);
}

describe('PII exposure', () => {
  it('never appears in logs or in any column, while the service and the vault still work', async () => {
    const address = `127.0.0.1:${port}`;
    const accounts = createGrpcClient(paymentsV1.AccountServiceClient, address, {
      retry: 'none',
      defaultDeadlineMs: 10_000,
      ...sendAs(staff),
    });
    const transfers = createGrpcClient(paymentsV1.TransferServiceClient, address, {
      retry: 'none',
      defaultDeadlineMs: 10_000,
      ...sendAs(staff),
    });
    const openRequest = paymentsV1.OpenAccountRequest.fromPartial({
      idempotencyKey: `open-${randomUUID()}`,
      ownerId: VISIBLE_OWNER,
      name: 'pii',
      type: paymentsV1.AccountType.ACCOUNT_TYPE_LIABILITY,
      currency: 'EUR',
      overdraftLimitMinor: 10_000n,
      holder,
    });
    const { account } = await unaryCall(accounts, 'openAccount', openRequest);
    const source = account!.id;
    // Replay, reuse with different PII, and a validation refusal: the paths that tend to log requests.
    expect((await unaryCall(accounts, 'openAccount', openRequest)).account!.id).toBe(source);
    expect((await refusal(unaryCall(accounts, 'openAccount', { ...openRequest, holder: { ...holder, address: 'elsewhere' } }))).code).toBe(
      'PAYMENTS.IDEMPOTENCY_KEY_REUSED',
    );
    expect(
      (await refusal(unaryCall(accounts, 'openAccount', { ...openRequest, idempotencyKey: `open-${randomUUID()}`, currency: 'XX' }))).kind,
    ).toBe('INVALID_ARGUMENT');
    const destination = (
      await unaryCall(accounts, 'openAccount', {
        ...openRequest,
        idempotencyKey: `open-${randomUUID()}`,
        holder: undefined,
        overdraftLimitMinor: 0n,
      })
    ).account!.id;

    const transferRequest = paymentsV1.CreateTransferRequest.fromPartial({
      idempotencyKey: `xfer-${randomUUID()}`,
      transfer: {
        sourceAccountId: source,
        destinationAccountId: destination,
        amount: { amountMinor: 2_500n, currency: 'EUR' },
        counterparty,
      },
    });
    const { transfer } = await unaryCall(transfers, 'createTransfer', transferRequest);
    expect(transfer?.status).toBe(paymentsV1.TransferStatus.TRANSFER_STATUS_POSTED);
    expect((await unaryCall(transfers, 'createTransfer', transferRequest)).transfer!.id).toBe(transfer!.id);
    const tooMuch = {
      ...transferRequest,
      idempotencyKey: `xfer-${randomUUID()}`,
      transfer: { ...transferRequest.transfer!, amount: { amountMinor: 10n ** 9n, currency: 'EUR' } },
    };
    expect((await refusal(unaryCall(transfers, 'createTransfer', tooMuch))).code).toBe('PAYMENTS.INSUFFICIENT_FUNDS');

    // The service still reads what it wrote; nothing it returns carries the PII.
    const got = await unaryCall(accounts, 'getAccount', { accountId: source });
    expect(got.account).toMatchObject({ id: source, ownerId: VISIBLE_OWNER });
    const fetched = await unaryCall(transfers, 'getTransfer', { transferId: transfer!.id });
    expect(fetched.transfer?.id).toBe(transfer!.id);
    const returned = JSON.stringify([got, fetched, account, transfer], (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    for (const needle of NEEDLES) expect([needle, returned.includes(needle)]).toEqual([needle, false]);
    accounts.close();
    transfers.close();

    // Let the relay publish (its logs are part of what is checked), then stop the process gracefully.
    await until(
      async () =>
        Number((await db.client.query<{ n: string }>('SELECT count(*) AS n FROM outbox_events WHERE sent_at IS NULL')).rows[0]!.n) === 0,
      20_000,
      'outbox drained',
    );
    const exited = new Promise<void>((resolve) => child!.once('exit', () => resolve()));
    child!.kill('SIGTERM');
    await exited;

    // Logs: verbose and real (the control is there), but no personal data in any form.
    expect(output.length).toBeGreaterThan(1_000);
    expect(output).toContain('/tessera.payments.v1.AccountService/OpenAccount'); // the refusals above were logged
    expect(output).toContain('/tessera.payments.v1.TransferService/CreateTransfer');
    const logs = output.toLowerCase();
    for (const needle of NEEDLES) expect([needle, logs.includes(needle.toLowerCase())]).toEqual([needle, false]);

    // Storage: every row of every table as text; bytea renders as \x<hex>, so raw bytes are matched as hex.
    const { rows: tables } = await db.client.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
    );
    expect(tables.map((t) => t.table_name)).toEqual(
      expect.arrayContaining(['account_holders', 'accounts', 'audit_records', 'idempotency_keys', 'outbox_events', 'transfers']),
    );
    let dump = '';
    for (const { table_name } of tables) {
      const { rows } = await db.client.query<{ row: string }>(`SELECT t::text AS row FROM "${table_name}" t`);
      dump += `${table_name}:${rows.map((r) => r.row).join('\n')}\n`;
    }
    const haystack = dump.toLowerCase();
    expect(haystack).toContain(VISIBLE_OWNER); // text columns are seen
    expect(haystack).toContain(hex(VISIBLE_OWNER)); // bytea (the encoded AccountOpened envelope) is seen
    for (const needle of NEEDLES) {
      expect([needle, haystack.includes(needle.toLowerCase())]).toEqual([needle, false]);
      expect([needle, haystack.includes(hex(needle))]).toEqual([needle, false]);
      expect([needle, haystack.includes(hex(needle.toLowerCase()))]).toEqual([needle, false]);
    }

    // The vault with the configured key opens exactly what was sealed.
    const vault = new PiiVault(parsePiiKeys(KEYS));
    const { rows: holders } = await db.client.query<{ account_id: string; kek_id: string; wrapped_dek: Buffer; ciphertext: Buffer }>(
      'SELECT account_id, kek_id, wrapped_dek, ciphertext FROM account_holders',
    );
    expect(holders.map((h) => h.account_id)).toEqual([source]);
    expect(holders[0]!.kek_id).toBe('kpii');
    expect(vault.open({ kekId: holders[0]!.kek_id, wrappedDek: holders[0]!.wrapped_dek, ciphertext: holders[0]!.ciphertext })).toEqual(
      holder,
    );
    const { rows: sealed } = await db.client.query<{
      counterparty_kek_id: string;
      counterparty_wrapped_dek: Buffer;
      counterparty_ciphertext: Buffer;
    }>('SELECT counterparty_kek_id, counterparty_wrapped_dek, counterparty_ciphertext FROM transfers WHERE id = $1', [transfer!.id]);
    const opened = vault.open<Record<string, unknown>>({
      kekId: sealed[0]!.counterparty_kek_id,
      wrappedDek: sealed[0]!.counterparty_wrapped_dek,
      ciphertext: sealed[0]!.counterparty_ciphertext,
    });
    expect(opened).toMatchObject(counterparty);
  });
});
