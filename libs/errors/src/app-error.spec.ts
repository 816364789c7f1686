import { AppError, isAppError } from './app-error';

describe('AppError', () => {
  describe('constructor', () => {
    it('copies metadata so later mutation of the input does not change the error', () => {
      const metadata = { accountId: 'a-1' };
      const err = new AppError({ code: 'T.X', kind: 'NOT_FOUND', message: 'm', metadata });
      metadata.accountId = 'changed';
      expect(err.metadata).toEqual({ accountId: 'a-1' });
    });

    it('omits fieldViolations when there are none and keeps the cause', () => {
      const cause = new Error('root');
      const err = new AppError({ code: 'T.X', kind: 'INTERNAL', message: 'm', fieldViolations: [], cause });
      expect(err.fieldViolations).toBeUndefined();
      expect(err.cause).toBe(cause);
      expect(err).toBeInstanceOf(Error);
      expect(err.name).toBe('AppError');
    });
  });
});

describe('isAppError', () => {
  it('recognises AppErrors and rejects look-alikes with unknown kinds', () => {
    expect(isAppError(new AppError({ code: 'T.X', kind: 'ABORTED', message: 'm' }))).toBe(true);
    const fake = Object.assign(new Error('m'), { name: 'AppError', code: 'T.X', kind: 'TEAPOT', metadata: {} });
    expect(isAppError(fake)).toBe(false);
    expect(isAppError({ code: 'T.X', kind: 'ABORTED', metadata: {} })).toBe(false);
  });
});
