import { AppError } from '@tessera/errors';

/** Every error the accounts feature raises, with its stable code. */
export const accountErrors = {
  invalid: (fieldViolations: { field: string; description: string }[]) =>
    new AppError({
      code: 'PAYMENTS.INVALID_ACCOUNT_REQUEST',
      kind: 'INVALID_ARGUMENT',
      message: 'The account request is invalid',
      fieldViolations,
    }),
  malformedId: (field: string) =>
    new AppError({
      code: 'PAYMENTS.MALFORMED_ID',
      kind: 'INVALID_ARGUMENT',
      message: `${field} must be a UUID`,
      fieldViolations: [{ field, description: 'must be a UUID' }],
    }),
  notFound: (accountId: string) =>
    new AppError({ code: 'PAYMENTS.ACCOUNT_NOT_FOUND', kind: 'NOT_FOUND', message: 'No such account', metadata: { accountId } }),
  idempotencyKeyReused: () =>
    new AppError({
      code: 'PAYMENTS.IDEMPOTENCY_KEY_REUSED',
      kind: 'FAILED_PRECONDITION',
      message: 'This idempotency key was already used for a different request',
    }),
};
