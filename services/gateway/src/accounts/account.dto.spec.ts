import { paymentsV1 } from '@tessera/contracts';
import { accountIdParam, changeAccountStatusBody, minorUnits, openAccountBody, toAccountView, toOpenAccountRequest } from './account.dto';

describe('minorUnits', () => {
  it.each([
    ['0', 0n],
    ['9223372036854775807', 9_223_372_036_854_775_807n],
    [1500, 1500n],
    [Number.MAX_SAFE_INTEGER, BigInt(Number.MAX_SAFE_INTEGER)],
  ])('accepts %p', (input, expected) => {
    expect(minorUnits.parse(input)).toBe(expected);
  });

  it.each([
    ['a float', 1.5],
    ['a float string', '1.5'],
    ['a negative number', -1],
    ['a negative string', '-1'],
    ['2^63 (one past int64)', '9223372036854775808'],
    ['20 digits', '99999999999999999999'],
    ['an unsafe integer number', 2 ** 53],
    ['an exponent', '1e3'],
    ['an empty string', ''],
    ['null', null],
  ])('rejects %s', (_label, input) => {
    expect(minorUnits.safeParse(input).success).toBe(false);
  });
});

describe('openAccountBody', () => {
  const valid = { ownerId: 'cust-1', type: 'ASSET', currency: 'EUR' };

  it('accepts a minimal body', () => {
    expect(openAccountBody.parse(valid)).toEqual(valid);
  });

  it.each(['eur', 'EURO', 'E1R', ''])('rejects currency %p', (currency) => {
    const result = openAccountBody.safeParse({ ...valid, currency });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toEqual(['currency']);
  });

  it('rejects unknown fields and unknown types', () => {
    const result = openAccountBody.safeParse({ ...valid, type: 'CASH', balance: 5 });
    expect(result.error?.issues.map((i) => i.path.join('.') || '(body)').sort()).toEqual(['(body)', 'type']);
  });
});

describe('changeAccountStatusBody', () => {
  it('takes an expectedVersion up to int64 and refuses a larger one as invalid input (not a 500 upstream)', () => {
    expect(changeAccountStatusBody.parse({ expectedVersion: '9223372036854775807' })).toEqual({ expectedVersion: '9223372036854775807' });
    expect(changeAccountStatusBody.safeParse({ expectedVersion: '9223372036854775808' }).success).toBe(false);
    expect(changeAccountStatusBody.safeParse({ expectedVersion: '9631686120578908880' }).success).toBe(false);
    // Not digits at all: refused by the pattern, never handed to BigInt (which would throw: a 500).
    expect(changeAccountStatusBody.safeParse({ expectedVersion: 'j\u{24510}', reason: true }).success).toBe(false);
  });
});

describe('accountIdParam', () => {
  it('accepts a UUID and rejects anything else', () => {
    expect(accountIdParam.safeParse('0b9a1a52-2f57-4c4e-9d59-1f0a6e4b2c11').success).toBe(true);
    expect(accountIdParam.safeParse('not-a-uuid').success).toBe(false);
  });
});

describe('toOpenAccountRequest', () => {
  it('maps the body to the proto request with defaults', () => {
    const body = openAccountBody.parse({
      ownerId: 'cust-1',
      type: 'LIABILITY',
      currency: 'USD',
      overdraftLimitMinor: '9223372036854775807',
    });
    expect(toOpenAccountRequest(body, 'key-12345')).toEqual(
      paymentsV1.OpenAccountRequest.fromPartial({
        idempotencyKey: 'key-12345',
        ownerId: 'cust-1',
        name: '',
        type: paymentsV1.AccountType.ACCOUNT_TYPE_LIABILITY,
        currency: 'USD',
        overdraftLimitMinor: 9_223_372_036_854_775_807n,
        labels: {},
      }),
    );
  });
});

describe('toAccountView', () => {
  const account = paymentsV1.Account.fromPartial({
    id: '0b9a1a52-2f57-4c4e-9d59-1f0a6e4b2c11',
    ownerId: 'cust-1',
    name: 'Main',
    type: paymentsV1.AccountType.ACCOUNT_TYPE_REVENUE,
    currency: 'EUR',
    status: paymentsV1.AccountStatus.ACCOUNT_STATUS_FROZEN,
    overdraftLimitMinor: 9_223_372_036_854_775_807n,
    version: 4n,
    createdAt: new Date('2026-01-02T03:04:05.678Z'),
  });

  it('strips enum prefixes and renders bigints as exact decimal strings', () => {
    expect(toAccountView(account)).toEqual({
      id: '0b9a1a52-2f57-4c4e-9d59-1f0a6e4b2c11',
      ownerId: 'cust-1',
      name: 'Main',
      type: 'REVENUE',
      currency: 'EUR',
      status: 'FROZEN',
      overdraftLimitMinor: '9223372036854775807',
      version: '4',
      createdAt: '2026-01-02T03:04:05.678Z',
    });
  });

  it('renders a missing creation time as null', () => {
    expect(toAccountView({ ...account, createdAt: undefined }).createdAt).toBeNull();
  });
});
