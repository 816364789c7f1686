import { DbError } from './db.error';
import { retryableSqlState, withSerializableRetry } from './serializable-retry';

const conflict = (code = '40001') => Object.assign(new Error('could not serialize access'), { code });

describe('withSerializableRetry', () => {
  it('retries serialization failures and deadlocks, then returns the result', async () => {
    const errors = [conflict('40001'), conflict('40P01')];
    const fn = jest.fn(async () => {
      const err = errors.shift();
      if (err) throw err;
      return 'ok';
    });
    await expect(withSerializableRetry(fn, { baseDelayMs: 1 })).resolves.toBe('ok');
    expect(fn).toHaveBeenCalledTimes(3);
  });

  it('rethrows any other error at once', async () => {
    const boom = Object.assign(new Error('unique violation'), { code: '23505' });
    const fn = jest.fn(async () => Promise.reject(boom));
    await expect(withSerializableRetry(fn)).rejects.toBe(boom);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('gives up with DB.SERIALIZATION_RETRIES_EXHAUSTED after maxAttempts', async () => {
    const fn = jest.fn(async () => Promise.reject(conflict()));
    const err = await withSerializableRetry(fn, { maxAttempts: 3, baseDelayMs: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DbError);
    expect((err as DbError).code).toBe('DB.SERIALIZATION_RETRIES_EXHAUSTED');
    expect(fn).toHaveBeenCalledTimes(3);
  });
});

describe('retryableSqlState', () => {
  it('finds the SQLSTATE in the shapes Prisma and adapter-pg produce', () => {
    expect(retryableSqlState({ code: 'P2034' })).toBe('40001');
    expect(retryableSqlState({ code: 'P2010', meta: { driverAdapterError: { cause: { originalCode: '40P01' } } } })).toBe('40P01');
    expect(retryableSqlState(new Error('wrapped', { cause: { kind: 'TransactionWriteConflict' } }))).toBe('40001');
    expect(retryableSqlState({ code: '23505' })).toBeUndefined();
    expect(retryableSqlState('40001')).toBeUndefined();
  });
});
