import { AppError } from '@tessera/errors';
import { assertCanReserve, availableOf, type LockedAccount } from './account';
import { fingerprint } from './ledger';
import { type TransferInstruction, validateInstruction } from '../transfers/transfer';

const account = (p: Partial<LockedAccount> = {}): LockedAccount => ({
  id: 'a',
  ownerId: 'o',
  currency: 'EUR',
  status: 'ACTIVE',
  balanceMinor: 0n,
  heldMinor: 0n,
  overdraftLimitMinor: 0n,
  version: 0n,
  ...p,
});

function thrown(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    if (e instanceof AppError) return e;
  }
  throw new Error('expected an AppError');
}

describe('availableOf / assertCanReserve', () => {
  it('lets available reach exactly -overdraft and not one minor unit further', () => {
    const a = account({ balanceMinor: 100n, heldMinor: 30n, overdraftLimitMinor: 20n });
    expect(availableOf(a)).toBe(70n);
    expect(() => assertCanReserve(a, 90n)).not.toThrow();
    expect(thrown(() => assertCanReserve(a, 91n))).toMatchObject({ code: 'PAYMENTS.INSUFFICIENT_FUNDS', kind: 'FAILED_PRECONDITION' });
  });

  it('works beyond 2^53 without precision loss', () => {
    const a = account({ balanceMinor: 2n ** 62n, overdraftLimitMinor: 0n });
    expect(() => assertCanReserve(a, 2n ** 62n)).not.toThrow();
    expect(() => assertCanReserve(a, 2n ** 62n + 1n)).toThrow(AppError);
  });
});

describe('validateInstruction', () => {
  const valid: TransferInstruction = {
    sourceAccountId: '0b9a1a52-2f57-4c4e-9d59-1f0a6e4b2c11',
    destinationAccountId: '1b9a1a52-2f57-4c4e-9d59-1f0a6e4b2c11',
    amount: { amountMinor: 5n, currency: 'EUR' },
    description: '',
    reference: '',
    labels: {},
    counterparty: undefined,
  };

  it('reports every problem at once with field paths', () => {
    const error = thrown(() =>
      validateInstruction({ ...valid, destinationAccountId: valid.sourceAccountId, amount: { amountMinor: 0n, currency: 'eur' } }),
    );
    expect(error.code).toBe('PAYMENTS.INVALID_TRANSFER_REQUEST');
    expect(error.fieldViolations?.map((v) => v.field).sort()).toEqual([
      'transfer.amount.amount_minor',
      'transfer.amount.currency',
      'transfer.destination_account_id',
    ]);
  });

  it('requires an amount and rejects one beyond int64', () => {
    expect(thrown(() => validateInstruction({ ...valid, amount: undefined })).fieldViolations).toEqual([
      { field: 'transfer.amount', description: 'is required' },
    ]);
    expect(
      thrown(() => validateInstruction({ ...valid, amount: { amountMinor: 2n ** 63n, currency: 'EUR' } })).fieldViolations?.[0]?.field,
    ).toBe('transfer.amount.amount_minor');
  });
});

describe('fingerprint', () => {
  it('ignores key order (protobuf maps arrive in any order) but not values', () => {
    expect(fingerprint({ a: 1n, labels: { x: '1', y: '2' } })).toBe(fingerprint({ labels: { y: '2', x: '1' }, a: 1n }));
    expect(fingerprint({ a: 1n })).not.toBe(fingerprint({ a: 2n }));
    expect(fingerprint({ a: 1n, b: undefined })).toBe(fingerprint({ a: 1n }));
  });
});
