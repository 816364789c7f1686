import { authErrors } from './auth.errors';
import type { ApiKeyStore } from './api-key-store';
import type { JwtVerifier } from './jwt-verifier';
import type { Principal } from './principal';

/** Metadata keys carrying the original credential between services. */
export const AUTHORIZATION_METADATA_KEY = 'authorization';
export const API_KEY_METADATA_KEY = 'x-api-key';

/** What {@link CallerAuthenticator} reads: gRPC `Metadata` fits, and so does a small map in tests. */
export interface MetadataLike {
  get(key: string): Array<string | Buffer>;
}

/**
 * The token of an `Authorization: Bearer <jwt>` value (scheme case-insensitive).
 * @throws AppError `AUTH.TOKEN_REQUIRED` when absent, `AUTH.TOKEN_INVALID` for another scheme or an empty token.
 */
export function bearerToken(authorization: string | undefined): string {
  if (authorization === undefined || authorization.trim() === '') throw authErrors.tokenRequired();
  const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(authorization.trim());
  const token = match?.[1];
  if (token === undefined) throw authErrors.tokenInvalid('expected Authorization: Bearer <token>');
  return token;
}

/** Options of {@link CallerAuthenticator.authenticate}. */
export interface AuthenticateOptions {
  /** Accept an `x-api-key` when no bearer token is sent; default true. Methods API keys may not call pass false. */
  allowApiKey?: boolean;
}

/**
 * Authenticates the caller of a gRPC method from the ORIGINAL credential the gateway forwarded (bearer JWT or
 * API key), so a service never trusts a call just because it came from inside the network.
 */
export class CallerAuthenticator {
  constructor(
    private readonly verifier: JwtVerifier,
    private readonly apiKeys: ApiKeyStore | undefined,
  ) {}

  /**
   * Bearer wins; else an API key (when allowed and a store is configured); else `AUTH.CREDENTIALS_REQUIRED`.
   * @throws AppError UNAUTHENTICATED with the verifier's or key store's code.
   */
  async authenticate(metadata: MetadataLike, options: AuthenticateOptions = {}): Promise<Principal> {
    const authorization = firstText(metadata, AUTHORIZATION_METADATA_KEY);
    if (authorization !== undefined) return this.verifier.verify(bearerToken(authorization));
    const apiKey = firstText(metadata, API_KEY_METADATA_KEY);
    if (apiKey !== undefined && (options.allowApiKey ?? true)) {
      if (!this.apiKeys) throw authErrors.apiKeyInvalid();
      return this.apiKeys.authenticate(apiKey);
    }
    throw authErrors.credentialsRequired();
  }
}

function firstText(metadata: MetadataLike, key: string): string | undefined {
  const [value] = metadata.get(key);
  if (value === undefined) return undefined;
  const text = typeof value === 'string' ? value : value.toString('utf8');
  return text === '' ? undefined : text;
}
