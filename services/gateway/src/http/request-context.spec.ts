import { AppError } from '@tessera/errors';
import { PRINCIPAL_KEY } from '@tessera/grpc';
import { callMetadataOf, idempotencyKeyOf } from './request-context';

function errorOf(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError');
}

describe('idempotencyKeyOf', () => {
  it('returns a key of 8..128 characters (the first one when repeated)', () => {
    expect(idempotencyKeyOf('12345678')).toBe('12345678');
    expect(idempotencyKeyOf(['k'.repeat(128), 'other-key'])).toBe('k'.repeat(128));
  });

  it.each([undefined, ''])('answers a missing key (%p) with HTTP.IDEMPOTENCY_KEY_REQUIRED', (raw) => {
    expect(errorOf(() => idempotencyKeyOf(raw))).toMatchObject({
      code: 'HTTP.IDEMPOTENCY_KEY_REQUIRED',
      kind: 'INVALID_ARGUMENT',
      fieldViolations: [{ field: 'Idempotency-Key', description: 'required' }],
    });
  });

  it.each(['1234567', 'k'.repeat(129)])('answers a key of the wrong length with HTTP.INVALID_IDEMPOTENCY_KEY', (raw) => {
    expect(errorOf(() => idempotencyKeyOf(raw))).toMatchObject({
      code: 'HTTP.INVALID_IDEMPOTENCY_KEY',
      fieldViolations: [{ field: 'Idempotency-Key', description: 'must be 8 to 128 characters' }],
    });
  });
});

describe('callMetadataOf', () => {
  it('forwards the principal header as x-tessera-principal', () => {
    expect(callMetadataOf('analyst-1@bank').get(PRINCIPAL_KEY)).toEqual(['analyst-1@bank']);
  });

  it('sends no principal when the header is absent', () => {
    expect(callMetadataOf(undefined).get(PRINCIPAL_KEY)).toEqual([]);
    expect(callMetadataOf('').get(PRINCIPAL_KEY)).toEqual([]);
  });

  it.each(['has space', 'x'.repeat(129), 'new\nline'])('rejects a malformed principal %p', (raw) => {
    expect(errorOf(() => callMetadataOf(raw))).toMatchObject({ code: 'HTTP.INVALID_PRINCIPAL', fieldViolations: [{ field: 'X-Tessera-Principal' }] });
  });
});
