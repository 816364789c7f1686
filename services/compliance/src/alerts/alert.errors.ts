import { AppError } from '@tessera/errors';

/** Typed failures of the review queue; codes are stable and documented in the README. */
export const alertErrors = {
  notFound: (alertId: string) =>
    new AppError({ code: 'COMPLIANCE.ALERT_NOT_FOUND', kind: 'NOT_FOUND', message: 'alert not found', metadata: { alertId } }),
  alreadyResolved: (alertId: string) =>
    new AppError({
      code: 'COMPLIANCE.ALERT_RESOLVED',
      kind: 'FAILED_PRECONDITION',
      message: 'alert is already resolved',
      metadata: { alertId },
    }),
  principalRequired: () =>
    new AppError({
      code: 'COMPLIANCE.PRINCIPAL_REQUIRED',
      kind: 'UNAUTHENTICATED',
      message: 'reviewing alerts needs an authenticated compliance officer',
    }),
  fourEyesRequired: (alertId: string) =>
    new AppError({
      code: 'COMPLIANCE.FOUR_EYES_REQUIRED',
      kind: 'FAILED_PRECONDITION',
      message: 'releasing a held transfer needs a second, different reviewer',
      metadata: { alertId },
    }),
  nothingHeld: (alertId: string) =>
    new AppError({
      code: 'COMPLIANCE.NO_HELD_TRANSFER',
      kind: 'FAILED_PRECONDITION',
      message: 'this alert holds no transfer to release or decline',
      metadata: { alertId },
    }),
  heldTransferNeedsDecision: (alertId: string) =>
    new AppError({
      code: 'COMPLIANCE.HELD_TRANSFER_NEEDS_DECISION',
      kind: 'FAILED_PRECONDITION',
      message: 'an alert holding a transfer is resolved only by RELEASE or DECLINE',
      metadata: { alertId },
    }),
  idempotencyKeyReused: () =>
    new AppError({
      code: 'COMPLIANCE.IDEMPOTENCY_KEY_REUSED',
      kind: 'FAILED_PRECONDITION',
      message: 'idempotency key was used for a different request',
    }),
  transactionsFailed: (alertId: string, cause: unknown) =>
    new AppError({
      code: 'COMPLIANCE.HELD_TRANSFER_CALL_FAILED',
      kind: 'UNAVAILABLE',
      message: 'transactions did not confirm the decision on the held transfer; retry the call',
      metadata: { alertId },
      cause,
    }),
};
