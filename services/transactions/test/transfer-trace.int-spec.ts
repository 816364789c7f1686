/**
 * Transfer -> trace link (issue #6): the real transactions service as a child process (with its OpenTelemetry
 * instrumentation, so the incoming `traceparent` becomes the server span's parent) stores the trace id of the
 * calling span on every transfer it creates (direct, batch, reversal, hold capture) and returns it as
 * `Transfer.trace_id`; a row written before the column existed (trace_id NULL) reads back as "".
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Metadata } from '@grpc/grpc-js';
import { paymentsV1 } from '@tessera/contracts';
import { unaryCall } from '@tessera/grpc';
import { type ServiceUnderTest, startServiceUnderTest } from './support/service-under-test';
import type { ThrowawayDb } from './support/throwaway-db';

jest.setTimeout(90_000);

let db: ThrowawayDb;
let svc: ServiceUnderTest | undefined;
let accounts: paymentsV1.AccountServiceClient;
let transfers: paymentsV1.TransferServiceClient;

const key = () => `key-${randomUUID()}`;
const eur = (amountMinor: bigint) => ({ amountMinor, currency: 'EUR' });

/** A calling span of our own: a fresh trace id sent as W3C traceparent (sampled), as the gateway would. */
function callingSpan(): { traceId: string; metadata: Metadata } {
  const traceId = randomBytes(16).toString('hex');
  const metadata = new Metadata();
  metadata.set('traceparent', `00-${traceId}-${randomBytes(8).toString('hex')}-01`);
  return { traceId, metadata };
}

async function openAccount(overdraft: bigint): Promise<string> {
  const { account } = await unaryCall(accounts, 'openAccount', {
    idempotencyKey: key(),
    ownerId: 'owner-trace',
    name: 'trace',
    type: paymentsV1.AccountType.ACCOUNT_TYPE_LIABILITY,
    currency: 'EUR',
    overdraftLimitMinor: overdraft,
    labels: {},
  });
  return account!.id;
}

beforeAll(async () => {
  svc = await startServiceUnderTest('tracelink', { env: { OTEL_TRACES_EXPORTER: 'none' }, deadlineMs: 10_000 });
  ({ db, accounts, transfers } = svc);
});

afterAll(() => svc?.stop());

describe('Transfer.trace_id', () => {
  it('is the trace id of the calling span for a direct transfer, and is stored and read back', async () => {
    const a = await openAccount(10_000n);
    const b = await openAccount(0n);
    const call = callingSpan();
    const { transfer } = await unaryCall(
      transfers,
      'createTransfer',
      {
        idempotencyKey: key(),
        transfer: paymentsV1.TransferInstruction.fromPartial({ sourceAccountId: a, destinationAccountId: b, amount: eur(100n) }),
      },
      { metadata: call.metadata },
    );
    expect(transfer?.traceId).toBe(call.traceId);
    // A later read, from another trace, still returns the creating request's trace id.
    expect(
      (await unaryCall(transfers, 'getTransfer', { transferId: transfer!.id }, { metadata: callingSpan().metadata })).transfer?.traceId,
    ).toBe(call.traceId);
    const { rows } = await db.client.query<{ trace_id: string | null }>('SELECT trace_id FROM transfers WHERE id = $1', [transfer!.id]);
    expect(rows).toEqual([{ trace_id: call.traceId }]);
  });

  it('is set on batch transfers, reversals and hold captures from the request that created each', async () => {
    const a = await openAccount(10_000n);
    const b = await openAccount(0n);
    const batchCall = callingSpan();
    const batch = await unaryCall(
      transfers,
      'createTransferBatch',
      {
        idempotencyKey: key(),
        transfers: [
          paymentsV1.TransferInstruction.fromPartial({ sourceAccountId: a, destinationAccountId: b, amount: eur(60n) }),
          paymentsV1.TransferInstruction.fromPartial({ sourceAccountId: a, destinationAccountId: b, amount: eur(40n) }),
        ],
      },
      { metadata: batchCall.metadata },
    );
    expect(batch.transfers.map((t) => t.traceId)).toEqual([batchCall.traceId, batchCall.traceId]);

    const reverseCall = callingSpan();
    const { original, reversal } = await unaryCall(
      transfers,
      'reverseTransfer',
      { idempotencyKey: key(), transferId: batch.transfers[0]!.id, reason: 'trace' },
      { metadata: reverseCall.metadata },
    );
    expect(reversal?.traceId).toBe(reverseCall.traceId);
    expect(original?.traceId).toBe(batchCall.traceId); // the reversed transfer keeps its own creator's trace

    const { hold } = await unaryCall(transfers, 'authorizeHold', {
      idempotencyKey: key(),
      accountId: a,
      destinationAccountId: b,
      amount: eur(50n),
      description: '',
      reference: '',
    });
    const captureCall = callingSpan();
    const captured = await unaryCall(
      transfers,
      'captureHold',
      { idempotencyKey: key(), holdId: hold!.id },
      { metadata: captureCall.metadata },
    );
    expect(captured.transfer?.traceId).toBe(captureCall.traceId);
  });

  it('is a fresh trace id when the caller sends no traceparent (the server span is a root)', async () => {
    const a = await openAccount(10_000n);
    const b = await openAccount(0n);
    const { transfer } = await unaryCall(transfers, 'createTransfer', {
      idempotencyKey: key(),
      transfer: paymentsV1.TransferInstruction.fromPartial({ sourceAccountId: a, destinationAccountId: b, amount: eur(5n) }),
    });
    expect(transfer?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(transfer?.traceId).not.toBe('0'.repeat(32));
  });

  it('reads back as "" for a transfer stored without one (rows older than the column)', async () => {
    const a = await openAccount(10_000n);
    const b = await openAccount(0n);
    const { transfer } = await unaryCall(transfers, 'createTransfer', {
      idempotencyKey: key(),
      transfer: paymentsV1.TransferInstruction.fromPartial({ sourceAccountId: a, destinationAccountId: b, amount: eur(7n) }),
    });
    await db.client.query('UPDATE transfers SET trace_id = NULL WHERE id = $1', [transfer!.id]);
    expect((await unaryCall(transfers, 'getTransfer', { transferId: transfer!.id })).transfer?.traceId).toBe('');
  });
});
