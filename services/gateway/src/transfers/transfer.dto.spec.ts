import { paymentsV1 } from '@tessera/contracts';
import {
  createTransferBatchBody,
  createTransferBody,
  listTransfersQuery,
  toListTransfersRequest,
  toTransferInstruction,
  toTransferView,
} from './transfer.dto';

const A = '0b9a1a52-2f57-4c4e-9d59-1f0a6e4b2c11';
const B = '6f1c2d3e-4a5b-4c6d-8e7f-901234567890';
const valid = { sourceAccountId: A, destinationAccountId: B, amount: { amountMinor: '1050', currency: 'EUR' } };

function fieldsOf(input: unknown): string[] {
  const result = createTransferBody.safeParse(input);
  return (result.error?.issues ?? []).map((i) => i.path.join('.') || '(body)').sort();
}

describe('createTransferBody', () => {
  it('accepts a minimal and a full transfer', () => {
    expect(createTransferBody.parse(valid).amount.amountMinor).toBe(1050n);
    const full = {
      ...valid,
      description: 'rent',
      reference: 'ord-1',
      labels: { channel: 'web' },
      counterparty: { name: 'Иван Петров', country: 'DE' },
    };
    expect(createTransferBody.safeParse(full).success).toBe(true);
  });

  it.each([
    ['the same source and destination', { ...valid, destinationAccountId: A.toUpperCase() }, ['destinationAccountId']],
    ['a zero amount', { ...valid, amount: { amountMinor: '0', currency: 'EUR' } }, ['amount.amountMinor']],
    ['a negative amount', { ...valid, amount: { amountMinor: '-100', currency: 'EUR' } }, ['amount.amountMinor']],
    ['an int64 overflow', { ...valid, amount: { amountMinor: '9223372036854775808', currency: 'EUR' } }, ['amount.amountMinor']],
    ['an unknown currency', { ...valid, amount: { amountMinor: '1', currency: 'XYZ' } }, ['amount.currency']],
    ['malformed ids', { ...valid, sourceAccountId: 'acc-1', destinationAccountId: '123' }, ['destinationAccountId', 'sourceAccountId']],
    ['an unknown field', { ...valid, fee: '1' }, ['(body)']],
    ['a counterparty without a country', { ...valid, counterparty: { name: 'Acme' } }, ['counterparty.country']],
    ['a missing amount', { sourceAccountId: A, destinationAccountId: B }, ['amount']],
  ])('rejects %s', (_label, input, fields) => {
    expect(fieldsOf(input)).toEqual(fields);
  });
});

describe('createTransferBatchBody', () => {
  it('names the invalid item by index and bounds the batch to 1..100', () => {
    const bad = createTransferBatchBody.safeParse({ transfers: [valid, { ...valid, amount: { amountMinor: '0', currency: 'EUR' } }] });
    expect(bad.error?.issues.map((i) => i.path.join('.'))).toEqual(['transfers.1.amount.amountMinor']);
    expect(createTransferBatchBody.safeParse({ transfers: [] }).success).toBe(false);
    expect(createTransferBatchBody.safeParse({ transfers: Array.from({ length: 101 }, () => valid) }).success).toBe(false);
    expect(createTransferBatchBody.safeParse({ transfers: Array.from({ length: 100 }, () => valid) }).success).toBe(true);
  });
});

describe('toTransferInstruction', () => {
  it('maps amounts to bigint and optional fields to proto defaults', () => {
    expect(toTransferInstruction(createTransferBody.parse({ ...valid, counterparty: { name: 'Acme', country: 'FR' } }))).toEqual(
      paymentsV1.TransferInstruction.fromPartial({
        sourceAccountId: A,
        destinationAccountId: B,
        amount: { amountMinor: 1050n, currency: 'EUR' },
        counterparty: { name: 'Acme', country: 'FR' },
      }),
    );
  });
});

describe('toListTransfersRequest', () => {
  it('maps filters and paging', () => {
    const query = listTransfersQuery.parse({ accountId: A, status: 'POSTED', pageSize: '10', pageToken: 'c1' });
    expect(toListTransfersRequest(query)).toEqual({
      page: { pageSize: 10, pageToken: 'c1' },
      accountId: A,
      status: paymentsV1.TransferStatus.TRANSFER_STATUS_POSTED,
      batchId: '',
    });
  });

  it('rejects unknown query parameters and a malformed account id', () => {
    expect(listTransfersQuery.safeParse({ account: A }).success).toBe(false);
    expect(listTransfersQuery.safeParse({ accountId: 'x' }).success).toBe(false);
  });
});

describe('toTransferView', () => {
  it('renders bigints as strings, enums without prefixes and empty references as null', () => {
    const transfer = paymentsV1.Transfer.fromPartial({
      id: 't-1',
      sourceAccountId: A,
      destinationAccountId: B,
      amount: { amountMinor: 9_223_372_036_854_775_807n, currency: 'EUR' },
      status: paymentsV1.TransferStatus.TRANSFER_STATUS_POSTED,
      kind: paymentsV1.TransferKind.TRANSFER_KIND_DIRECT,
      postings: [
        { accountId: A, amount: { amountMinor: -9_223_372_036_854_775_807n, currency: 'EUR' } },
        { accountId: B, amount: { amountMinor: 9_223_372_036_854_775_807n, currency: 'EUR' } },
      ],
      screeningId: 's-1',
      createdAt: new Date('2026-01-02T03:04:05.000Z'),
    });
    expect(toTransferView(transfer)).toMatchObject({
      traceId: null,
      amount: { amountMinor: '9223372036854775807', currency: 'EUR' },
      status: 'POSTED',
      kind: 'DIRECT',
      postings: [
        { accountId: A, amount: { amountMinor: '-9223372036854775807' } },
        { accountId: B, amount: { amountMinor: '9223372036854775807' } },
      ],
      reversesTransferId: null,
      holdId: null,
      screeningId: 's-1',
      createdAt: '2026-01-02T03:04:05.000Z',
      postedAt: null,
    });
  });

  it('passes the trace id through (the console links to it) and turns an untraced "" into null', () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    expect(toTransferView(paymentsV1.Transfer.fromPartial({ id: 't-2', traceId })).traceId).toBe(traceId);
    expect(toTransferView(paymentsV1.Transfer.fromPartial({ id: 't-3', traceId: '' })).traceId).toBeNull();
  });
});
