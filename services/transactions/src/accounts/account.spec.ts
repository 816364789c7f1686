import { AppError } from '@tessera/errors';
import { MAX_MINOR } from '../ledger/ledger';
import { openAccountFingerprint, type OpenAccountCommand, validateOpenAccount } from './account';

const valid: OpenAccountCommand = {
  idempotencyKey: 'key-0001',
  ownerId: 'cust-1',
  name: 'Main',
  type: 'ASSET',
  currency: 'EUR',
  overdraftLimitMinor: 0n,
  labels: { team: 'ops', region: 'eu' },
};

function rejection(cmd: OpenAccountCommand): AppError {
  try {
    validateOpenAccount(cmd);
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected validation to fail');
}

describe('validateOpenAccount', () => {
  it('returns a valid command with its type narrowed', () => {
    expect(validateOpenAccount(valid)).toEqual(valid);
    expect(validateOpenAccount({ ...valid, overdraftLimitMinor: MAX_MINOR }).overdraftLimitMinor).toBe(MAX_MINOR);
  });

  it('lists every violation in one error', () => {
    const error = rejection({
      idempotencyKey: 'short',
      ownerId: '',
      name: 'n'.repeat(201),
      type: undefined,
      currency: 'EURO',
      overdraftLimitMinor: -1n,
      labels: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v'])),
    });
    expect(error).toMatchObject({ code: 'PAYMENTS.INVALID_ACCOUNT_REQUEST', kind: 'INVALID_ARGUMENT' });
    expect(error.fieldViolations?.map((v) => v.field)).toEqual([
      'idempotency_key',
      'owner_id',
      'name',
      'type',
      'currency',
      'overdraft_limit_minor',
      'labels',
    ]);
  });

  it.each([
    ['a lowercase currency', { currency: 'eur' }, 'currency'],
    ['a made-up currency', { currency: 'ABC' }, 'currency'],
    ['an overdraft above int64', { overdraftLimitMinor: MAX_MINOR + 1n }, 'overdraft_limit_minor'],
    ['a 129-character key', { idempotencyKey: 'k'.repeat(129) }, 'idempotency_key'],
    ['a missing type', { type: undefined }, 'type'],
  ])('rejects %s', (_label, patch, field) => {
    expect(rejection({ ...valid, ...patch }).fieldViolations).toEqual([{ field, description: expect.any(String) }]);
  });
});

describe('openAccountFingerprint', () => {
  const digest = (holder: object) => `digest:${JSON.stringify(holder)}`;
  const holder = { fullName: 'Jane Roe', address: '1 Main St', nationalId: 'X123', country: 'DE' };

  it('is the same for the same request whatever the label order or idempotency key', () => {
    const reordered = { ...valid, idempotencyKey: 'another-key', labels: { region: 'eu', team: 'ops' } };
    expect(Object.keys(reordered.labels)).not.toEqual(Object.keys(valid.labels));
    expect(openAccountFingerprint(reordered, digest)).toBe(openAccountFingerprint(valid, digest));
    expect(openAccountFingerprint(valid, digest)).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each<[string, Partial<OpenAccountCommand>]>([
    ['ownerId', { ownerId: 'cust-2' }],
    ['name', { name: 'Savings' }],
    ['type', { type: 'LIABILITY' }],
    ['missing type', { type: undefined }],
    ['currency', { currency: 'USD' }],
    ['overdraft', { overdraftLimitMinor: 1n }],
    ['a label value', { labels: { team: 'ops', region: 'us' } }],
    ['a label key', { labels: { team: 'ops', zone: 'eu' } }],
    ['one label fewer', { labels: { team: 'ops' } }],
    ['a holder', { holder }],
  ])('differs when %s differs', (_label, patch) => {
    expect(openAccountFingerprint({ ...valid, ...patch }, digest)).not.toBe(openAccountFingerprint(valid, digest));
  });

  it('sees the holder only through the keyed digest, never in clear', () => {
    const seen: object[] = [];
    const withHolder = { ...valid, holder };
    openAccountFingerprint(withHolder, (h) => (seen.push(h), 'd1'));
    expect(seen).toEqual([holder]);
    expect(openAccountFingerprint(withHolder, () => 'd1')).not.toBe(openAccountFingerprint(withHolder, () => 'd2'));
  });
});
