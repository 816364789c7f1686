import { AppError } from '@tessera/errors';
import type { Role, Scope } from './roles';

/**
 * Stable error codes of @tessera/auth. Clients branch on them; messages stay safe (never echo a token or key).
 * UNAUTHENTICATED ones become 401 (+ `WWW-Authenticate: Bearer` at the edge), PERMISSION_DENIED ones 403.
 */
export const AUTH_CODES = {
  tokenRequired: 'AUTH.TOKEN_REQUIRED',
  tokenExpired: 'AUTH.TOKEN_EXPIRED',
  tokenNotYetValid: 'AUTH.TOKEN_NOT_YET_VALID',
  tokenInvalid: 'AUTH.TOKEN_INVALID',
  unknownKey: 'AUTH.UNKNOWN_KEY',
  apiKeyRequired: 'AUTH.API_KEY_REQUIRED',
  apiKeyInvalid: 'AUTH.API_KEY_INVALID',
  credentialsRequired: 'AUTH.CREDENTIALS_REQUIRED',
  scopeRequired: 'AUTH.SCOPE_REQUIRED',
  tenantForbidden: 'AUTH.TENANT_FORBIDDEN',
  roleRequired: 'AUTH.ROLE_REQUIRED',
  /** The verification keys could not be loaded (server-side problem, 503); the caller's token may be fine. */
  jwksUnavailable: 'AUTH.JWKS_UNAVAILABLE',
} as const;
export type AuthCode = (typeof AUTH_CODES)[keyof typeof AUTH_CODES];

function unauthenticated(code: AuthCode, message: string, cause?: unknown): AppError {
  return new AppError({ code, kind: 'UNAUTHENTICATED', message, ...(cause === undefined ? {} : { cause }) });
}

export const authErrors = {
  tokenRequired: () => unauthenticated(AUTH_CODES.tokenRequired, 'Send a bearer token (Authorization: Bearer <jwt>)'),
  tokenExpired: (cause?: unknown) => unauthenticated(AUTH_CODES.tokenExpired, 'The token has expired; obtain a new one', cause),
  tokenNotYetValid: (cause?: unknown) =>
    unauthenticated(AUTH_CODES.tokenNotYetValid, 'The token is not valid yet (nbf/iat in the future); check the issuer clock', cause),
  tokenInvalid: (reason: string, cause?: unknown) => unauthenticated(AUTH_CODES.tokenInvalid, `The token is not valid: ${reason}`, cause),
  unknownKey: (cause?: unknown) =>
    unauthenticated(AUTH_CODES.unknownKey, 'The token was signed with a key this service does not know (kid not in the JWKS)', cause),
  apiKeyRequired: () => unauthenticated(AUTH_CODES.apiKeyRequired, 'Send an API key (X-Api-Key header)'),
  /** One code for unknown, malformed and revoked keys, so the answer is no oracle for which keys exist. */
  apiKeyInvalid: () => unauthenticated(AUTH_CODES.apiKeyInvalid, 'The API key is not valid'),
  credentialsRequired: () =>
    unauthenticated(
      AUTH_CODES.credentialsRequired,
      'Send credentials: Authorization: Bearer <jwt>, or an X-Api-Key where API keys are accepted',
    ),
  scopeRequired: (scope: Scope) =>
    new AppError({
      code: AUTH_CODES.scopeRequired,
      kind: 'PERMISSION_DENIED',
      message: `This action needs the scope ${scope}`,
      metadata: { scope },
    }),
  tenantForbidden: (tenantId: string) =>
    new AppError({
      code: AUTH_CODES.tenantForbidden,
      kind: 'PERMISSION_DENIED',
      message: 'The credential does not grant access to this tenant',
      metadata: { tenantId },
    }),
  roleRequired: (role: Role) =>
    new AppError({
      code: AUTH_CODES.roleRequired,
      kind: 'PERMISSION_DENIED',
      message: `This action needs the role ${role}`,
      metadata: { role },
    }),
  jwksUnavailable: (cause: unknown) =>
    new AppError({
      code: AUTH_CODES.jwksUnavailable,
      kind: 'UNAVAILABLE',
      message: 'Token verification keys are unavailable; try again later',
      cause,
    }),
};
