import { AppError, type ErrorKind, INTERNAL_CODE, INTERNAL_MESSAGE } from './app-error';
import { PROBLEM_CONTENT_TYPE, toProblem } from './problem';

describe('toProblem', () => {
  it.each<[ErrorKind, number]>([
    ['INVALID_ARGUMENT', 400],
    ['UNAUTHENTICATED', 401],
    ['PERMISSION_DENIED', 403],
    ['NOT_FOUND', 404],
    ['ALREADY_EXISTS', 409],
    ['ABORTED', 409],
    ['FAILED_PRECONDITION', 422],
    ['RESOURCE_EXHAUSTED', 429],
    ['INTERNAL', 500],
    ['UNAVAILABLE', 503],
    ['DEADLINE_EXCEEDED', 504],
  ])('maps %s to HTTP %i', (kind, status) => {
    const problem = toProblem(new AppError({ code: 'T.X', kind, message: 'm' }));
    expect(problem.status).toBe(status);
    expect(problem.body.status).toBe(status);
  });

  it('builds an RFC 9457 body with code, instance and field errors', () => {
    const problem = toProblem(
      new AppError({
        code: 'PAYMENTS.INVALID_TRANSFER',
        kind: 'INVALID_ARGUMENT',
        message: 'The transfer is invalid',
        metadata: { internalHint: 'not for HTTP' },
        fieldViolations: [{ field: 'amount', description: 'must be positive' }],
      }),
      '/v1/transfers',
    );
    expect(problem.contentType).toBe(PROBLEM_CONTENT_TYPE);
    expect(PROBLEM_CONTENT_TYPE).toBe('application/problem+json');
    expect(problem.body).toEqual({
      type: 'https://tessera.dev/problems/PAYMENTS.INVALID_TRANSFER',
      title: 'Bad Request',
      status: 400,
      detail: 'The transfer is invalid',
      instance: '/v1/transfers',
      code: 'PAYMENTS.INVALID_TRANSFER',
      errors: [{ field: 'amount', description: 'must be positive' }],
    });
  });

  it('returns a generic 500 for anything that is not an AppError', () => {
    const problem = toProblem(new Error('duplicate key value violates unique constraint "accounts_pkey"'));
    expect(problem.status).toBe(500);
    expect(problem.body).toEqual({
      type: `https://tessera.dev/problems/${INTERNAL_CODE}`,
      title: 'Internal Server Error',
      status: 500,
      detail: INTERNAL_MESSAGE,
      code: INTERNAL_CODE,
    });
  });
});
