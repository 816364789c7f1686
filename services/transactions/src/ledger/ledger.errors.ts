import { AppError, type FieldViolation } from '@tessera/errors';

/** Every error the ledger raises (transfers, holds, balances), each with its stable code. */
export const ledgerErrors = {
  invalid: (fieldViolations: FieldViolation[]) =>
    new AppError({
      code: 'PAYMENTS.INVALID_TRANSFER_REQUEST',
      kind: 'INVALID_ARGUMENT',
      message: 'The request is invalid',
      fieldViolations,
    }),
  missingIdempotencyKey: () =>
    new AppError({
      code: 'PAYMENTS.MISSING_IDEMPOTENCY_KEY',
      kind: 'INVALID_ARGUMENT',
      message: 'An idempotency key is required',
      fieldViolations: [{ field: 'idempotency_key', description: 'must be 8 to 128 characters' }],
    }),
  malformedId: (field: string) =>
    new AppError({
      code: 'PAYMENTS.MALFORMED_ID',
      kind: 'INVALID_ARGUMENT',
      message: `${field} must be a UUID`,
      fieldViolations: [{ field, description: 'must be a UUID' }],
    }),
  idempotencyKeyReused: () =>
    new AppError({
      code: 'PAYMENTS.IDEMPOTENCY_KEY_REUSED',
      kind: 'FAILED_PRECONDITION',
      message: 'This idempotency key was already used for a different request',
    }),
  accountNotFound: (accountId: string) =>
    new AppError({ code: 'PAYMENTS.ACCOUNT_NOT_FOUND', kind: 'NOT_FOUND', message: 'No such account', metadata: { accountId } }),
  transferNotFound: (transferId: string) =>
    new AppError({ code: 'PAYMENTS.TRANSFER_NOT_FOUND', kind: 'NOT_FOUND', message: 'No such transfer', metadata: { transferId } }),
  /** A customer moving money from an account that is not theirs (or does not exist: same answer, no oracle). */
  accountForbidden: (accountId: string) =>
    new AppError({
      code: 'PAYMENTS.ACCOUNT_FORBIDDEN',
      kind: 'PERMISSION_DENIED',
      message: 'You may only move money from your own accounts',
      metadata: { accountId },
    }),
  holdNotFound: (holdId: string) =>
    new AppError({ code: 'PAYMENTS.HOLD_NOT_FOUND', kind: 'NOT_FOUND', message: 'No such hold', metadata: { holdId } }),
  accountFrozen: (accountId: string) =>
    new AppError({
      code: 'PAYMENTS.ACCOUNT_FROZEN',
      kind: 'FAILED_PRECONDITION',
      message: 'The account is frozen',
      metadata: { accountId },
    }),
  accountClosed: (accountId: string) =>
    new AppError({
      code: 'PAYMENTS.ACCOUNT_CLOSED',
      kind: 'FAILED_PRECONDITION',
      message: 'The account is closed',
      metadata: { accountId },
    }),
  currencyMismatch: (accountId: string, expected: string) =>
    new AppError({
      code: 'PAYMENTS.CURRENCY_MISMATCH',
      kind: 'FAILED_PRECONDITION',
      message: 'Accounts and amount must share one currency',
      metadata: { accountId, accountCurrency: expected },
    }),
  insufficientFunds: (accountId: string) =>
    new AppError({
      code: 'PAYMENTS.INSUFFICIENT_FUNDS',
      kind: 'FAILED_PRECONDITION',
      message: 'Insufficient available funds',
      metadata: { accountId },
    }),
  balanceOverflow: (accountId: string) =>
    new AppError({
      code: 'PAYMENTS.AMOUNT_OVERFLOW',
      kind: 'FAILED_PRECONDITION',
      message: 'The balance would exceed int64',
      metadata: { accountId },
    }),
  versionMismatch: (accountId: string, expected: bigint, actual: bigint) =>
    new AppError({
      code: 'PAYMENTS.VERSION_MISMATCH',
      kind: 'ABORTED',
      message: 'The account changed since it was read',
      metadata: { accountId, expectedVersion: expected.toString(), actualVersion: actual.toString() },
    }),
  accountNotEmpty: (accountId: string) =>
    new AppError({
      code: 'PAYMENTS.ACCOUNT_NOT_EMPTY',
      kind: 'FAILED_PRECONDITION',
      message: 'Only an account with zero balance can be closed',
      metadata: { accountId },
    }),
  accountHasHolds: (accountId: string) =>
    new AppError({
      code: 'PAYMENTS.ACCOUNT_HAS_OPEN_HOLDS',
      kind: 'FAILED_PRECONDITION',
      message: 'The account has open holds or transfers under review',
      metadata: { accountId },
    }),
  transferNotPosted: (transferId: string, status: string) =>
    new AppError({
      code: 'PAYMENTS.TRANSFER_NOT_POSTED',
      kind: 'FAILED_PRECONDITION',
      message: 'Only a posted transfer can be reversed',
      metadata: { transferId, status },
    }),
  alreadyReversed: (transferId: string) =>
    new AppError({
      code: 'PAYMENTS.TRANSFER_ALREADY_REVERSED',
      kind: 'FAILED_PRECONDITION',
      message: 'The transfer has already been reversed',
      metadata: { transferId },
    }),
  reversalOfReversal: (transferId: string) =>
    new AppError({
      code: 'PAYMENTS.REVERSAL_NOT_REVERSIBLE',
      kind: 'FAILED_PRECONDITION',
      message: 'A reversal cannot itself be reversed',
      metadata: { transferId },
    }),
  transferNotPending: (transferId: string, status: string) =>
    new AppError({
      code: 'PAYMENTS.TRANSFER_NOT_PENDING',
      kind: 'FAILED_PRECONDITION',
      message: 'The transfer is not held for review',
      metadata: { transferId, status },
    }),
  fourEyesRequired: () =>
    new AppError({
      code: 'PAYMENTS.FOUR_EYES_REQUIRED',
      kind: 'FAILED_PRECONDITION',
      message: 'Releasing a held transfer needs two distinct approvers',
      fieldViolations: [{ field: 'approved_by', description: 'two distinct, non-empty principals' }],
    }),
  holdNotAuthorized: (holdId: string, status: string) =>
    new AppError({
      code: 'PAYMENTS.HOLD_NOT_AUTHORIZED',
      kind: 'FAILED_PRECONDITION',
      message: 'The hold is no longer authorised',
      metadata: { holdId, status },
    }),
  holdExpired: (holdId: string) =>
    new AppError({
      code: 'PAYMENTS.HOLD_EXPIRED',
      kind: 'FAILED_PRECONDITION',
      message: 'The hold has expired and its funds were released',
      metadata: { holdId },
    }),
  captureExceedsHold: (holdId: string) =>
    new AppError({
      code: 'PAYMENTS.CAPTURE_EXCEEDS_HOLD',
      kind: 'FAILED_PRECONDITION',
      message: 'The capture amount exceeds the authorised amount',
      metadata: { holdId },
      fieldViolations: [{ field: 'amount.amount_minor', description: 'at most the authorised amount' }],
    }),
  complianceDeclined: (decision: string, screeningId: string) =>
    new AppError({
      code: 'PAYMENTS.COMPLIANCE_DECLINED',
      kind: 'FAILED_PRECONDITION',
      message: 'Compliance screening did not approve this movement',
      metadata: { decision, screeningId },
    }),
  batchNotApproved: (index: number, decision: string, screeningId: string) =>
    new AppError({
      code: 'PAYMENTS.BATCH_NOT_APPROVED',
      kind: 'FAILED_PRECONDITION',
      message: 'Compliance did not approve every transfer of the batch; nothing was posted',
      metadata: { index: String(index), decision, screeningId },
    }),
  complianceUnavailable: (cause: string) =>
    new AppError({
      code: 'PAYMENTS.COMPLIANCE_UNAVAILABLE',
      kind: 'UNAVAILABLE',
      message: 'Compliance screening is unavailable; the movement was refused (fail-closed)',
      metadata: { cause },
    }),
  badPageToken: () =>
    new AppError({
      code: 'PAYMENTS.INVALID_PAGE_TOKEN',
      kind: 'INVALID_ARGUMENT',
      message: 'The page token is invalid',
      fieldViolations: [{ field: 'page.page_token', description: 'not a token from a previous page' }],
    }),
};
