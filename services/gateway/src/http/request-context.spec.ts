import { AppError } from '@tessera/errors';
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
  it('forwards a verified bearer token as authorization metadata, verbatim', () => {
    const metadata = callMetadataOf({ kind: 'bearer', token: 'eyJ.a.b' });
    expect(metadata.get('authorization')).toEqual(['Bearer eyJ.a.b']);
    expect(metadata.get('x-api-key')).toEqual([]);
  });

  it('forwards a verified API key as x-api-key metadata', () => {
    const metadata = callMetadataOf({ kind: 'api-key', key: 'tsk_abcdefghijkl_secret' });
    expect(metadata.get('x-api-key')).toEqual(['tsk_abcdefghijkl_secret']);
    expect(metadata.get('authorization')).toEqual([]);
  });

  it('never sends x-tessera-principal (services must not trust a name the edge did not verify)', () => {
    expect(callMetadataOf({ kind: 'bearer', token: 't' }).get('x-tessera-principal')).toEqual([]);
    expect(callMetadataOf(undefined).getMap()).toEqual({});
  });
});
