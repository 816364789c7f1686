import { AppError } from '@tessera/errors';

/** PII vault failures; messages never contain the data or key material. */
export const piiErrors = {
  unknownKek: (kekId: string) =>
    new AppError({
      code: 'PAYMENTS.PII_KEY_UNKNOWN',
      kind: 'INTERNAL',
      message: 'personal data was sealed with a key that is not configured',
      metadata: { kekId },
    }),
  undecryptable: (kekId: string, cause?: unknown) =>
    new AppError({
      code: 'PAYMENTS.PII_UNDECRYPTABLE',
      kind: 'INTERNAL',
      message: 'personal data failed authentication (wrong key or tampered bytes)',
      metadata: { kekId },
      cause,
    }),
};
