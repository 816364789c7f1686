import { randomUUID } from 'node:crypto';
import { complianceV1 } from '@tessera/contracts';
import { AppError } from '@tessera/errors';

/** The AppError a call was refused with; fails the test when it resolved or threw something else. */
export async function rejection(p: Promise<unknown>): Promise<AppError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error instanceof AppError) return error;
  throw new Error(`expected an AppError, got ${String(error)}`);
}

/** A Screen request for a fresh owner and movement (a clean name, EUR 100.00), with `overrides` on the subject. */
export function screenRequest(
  overrides: Partial<complianceV1.ScreeningSubject> = {},
  key = `scr-${randomUUID()}`,
): complianceV1.ScreenRequest {
  return complianceV1.ScreenRequest.fromPartial({
    idempotencyKey: key,
    subject: {
      referenceId: randomUUID(),
      sourceAccountId: randomUUID(),
      destinationAccountId: randomUUID(),
      amount: { amountMinor: 10_000n, currency: 'EUR' },
      ownerId: `owner-${randomUUID()}`,
      counterpartyName: 'Anna Schmidt',
      counterpartyCountry: 'DE',
      movementKind: 'transfer',
      ...overrides,
    },
  });
}
