import { decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { AppError } from '@tessera/errors';
import { authErrors } from './auth.errors';
import { JwksUnavailableError, keyResolverOf, type JwksSource, type KeyResolver } from './jwks-source';
import type { Principal } from './principal';
import { effectiveScopes, isRole, STAFF_ROLES, type Role } from './roles';

/** Only asymmetric algorithms: `none` and HS* (alg confusion with a public key used as HMAC secret) never verify. */
export const ACCEPTED_ALGORITHMS = ['RS256', 'ES256'] as const;

/** Options of {@link JwtVerifier}. */
export interface JwtVerifierOptions {
  /** Expected `iss`, exact match. */
  issuer: string;
  /** Expected `aud` (the token's `aud` must contain it). */
  audience: string;
  jwks: JwksSource;
  /** Clock skew accepted on `exp`, `nbf` and `iat`, in seconds; default 30. */
  clockToleranceSec?: number;
  /** When set, tokens whose lifetime (`exp` - `iat`, or `exp` - now without `iat`) exceeds it are refused. */
  maxTtlSec?: number;
}

const SUBJECT = /^[\x21-\x7e]{1,256}$/;

/** Verified tokens remembered (most recent first out when full) and for how long at most. */
const VERIFIED_CACHE_SIZE = 1024;
const VERIFIED_CACHE_MS = 60_000;

interface VerifiedToken {
  payload: JWTPayload;
  /** The key that verified the signature: a hit counts only while the key set still resolves the kid to it. */
  key: unknown;
  /** Epoch ms after which the entry is not used (the earlier of exp + tolerance and VERIFIED_CACHE_MS from now). */
  until: number;
}

/**
 * Verifies bearer JWTs against a JWKS (file or URL) with jose, and turns the claims into a {@link Principal}.
 * Every failure is an AppError UNAUTHENTICATED with a distinct, stable code (`AUTH.TOKEN_EXPIRED`, ...); the
 * jose error is kept as `cause` for logs only.
 */
export class JwtVerifier {
  private readonly keys: KeyResolver;
  private readonly clockToleranceSec: number;
  /**
   * Tokens whose signature and claims were verified, by their exact compact form (issue #10: the ES256 check was ~6%
   * of a service's CPU on the transfer path, repeated by the gateway, transactions and compliance for the same
   * token). A hit skips only the signature computation: the header is re-checked, the key set must still resolve the
   * token's kid to the very key that verified it (a rotated-out or replaced key misses, as an edited JWKS file does),
   * and an entry is used only until the token's exp (+ tolerance) and at most VERIFIED_CACHE_MS. Refusals are never
   * remembered.
   */
  private readonly verified = new Map<string, VerifiedToken>();
  /** Verifications done and answered from `verified` (for tests and metrics). */
  readonly stats = { signatureChecks: 0, cacheHits: 0 };

  constructor(private readonly options: JwtVerifierOptions) {
    this.keys = keyResolverOf(options.jwks);
    this.clockToleranceSec = options.clockToleranceSec ?? 30;
  }

  get issuer(): string {
    return this.options.issuer;
  }

  get audience(): string {
    return this.options.audience;
  }

  /** @throws AppError `AUTH.TOKEN_*` / `AUTH.UNKNOWN_KEY` (401) or `AUTH.JWKS_UNAVAILABLE` (503). */
  async verify(token: string | undefined): Promise<Principal> {
    if (token === undefined || token.trim() === '') throw authErrors.tokenRequired();
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch (err) {
      throw authErrors.tokenInvalid('malformed token', err);
    }
    if (typeof header.alg !== 'string' || !(ACCEPTED_ALGORITHMS as readonly string[]).includes(header.alg)) {
      throw authErrors.tokenInvalid(`algorithm not accepted (only ${ACCEPTED_ALGORITHMS.join(', ')})`);
    }
    if (typeof header.kid !== 'string' || header.kid === '') throw authErrors.tokenInvalid('the header has no kid');
    const payload = (await this.remembered(token, header)) ?? (await this.verifySignatureAndClaims(token));
    return this.principalOf(payload);
  }

  /** The payload of `token` if it was verified before and its key is still the one the key set gives for its kid. */
  private async remembered(token: string, header: ReturnType<typeof decodeProtectedHeader>): Promise<JWTPayload | undefined> {
    const entry = this.verified.get(token);
    if (!entry) return undefined;
    if (Date.now() >= entry.until) {
      this.verified.delete(token);
      return undefined;
    }
    const [protectedHeader = '', payload = '', signature = ''] = token.split('.');
    let key: unknown;
    try {
      key = await this.keys.getKey(header as Parameters<KeyResolver['getKey']>[0], { protected: protectedHeader, payload, signature });
    } catch {
      key = undefined;
    }
    if (key !== entry.key) {
      this.verified.delete(token);
      return undefined;
    }
    this.stats.cacheHits++;
    return entry.payload;
  }

  private remember(token: string, payload: JWTPayload, key: unknown): void {
    const expiresMs = typeof payload.exp === 'number' ? (payload.exp + this.clockToleranceSec) * 1000 : Date.now();
    const until = Math.min(expiresMs, Date.now() + VERIFIED_CACHE_MS);
    if (this.verified.size >= VERIFIED_CACHE_SIZE) {
      const oldest = this.verified.keys().next();
      if (!oldest.done) this.verified.delete(oldest.value);
    }
    this.verified.set(token, { payload, key, until });
  }

  private async verifySignatureAndClaims(token: string): Promise<JWTPayload> {
    const { payload, key } = await this.verifySignature(token);
    this.remember(token, payload, key);
    return payload;
  }

  private async verifySignature(token: string): Promise<{ payload: JWTPayload; key: unknown }> {
    this.stats.signatureChecks++;
    const options = {
      issuer: this.options.issuer,
      audience: this.options.audience,
      algorithms: [...ACCEPTED_ALGORITHMS],
      clockTolerance: this.clockToleranceSec,
      requiredClaims: ['exp', 'sub', 'iss', 'aud'],
    };
    try {
      return await jwtVerify(token, this.keys.getKey, options);
    } catch (err) {
      if (joseCode(err) === 'ERR_JWKS_NO_MATCHING_KEY' && (await this.refreshQuietly())) {
        try {
          return await jwtVerify(token, this.keys.getKey, options);
        } catch (retryErr) {
          throw toAuthError(retryErr);
        }
      }
      throw toAuthError(err);
    }
  }

  private async refreshQuietly(): Promise<boolean> {
    try {
      return await this.keys.refresh();
    } catch {
      return false;
    }
  }

  private principalOf(payload: JWTPayload): Principal {
    const sub = payload.sub;
    if (typeof sub !== 'string' || !SUBJECT.test(sub)) throw authErrors.tokenInvalid('sub must be 1-256 printable characters');
    // API key principals are `apikey:<id>`; a token must not be able to pose as one in audit logs.
    if (sub.startsWith('apikey:')) throw authErrors.tokenInvalid('sub must not start with apikey:');
    this.checkLifetime(payload);

    const rolesClaim = payload['roles'];
    if (rolesClaim !== undefined && (!Array.isArray(rolesClaim) || !rolesClaim.every((r) => typeof r === 'string'))) {
      throw authErrors.tokenInvalid('roles must be an array of strings');
    }
    const roles: Role[] = [...new Set((rolesClaim ?? []) as string[])].filter(isRole);
    const scope = optionalString(payload, 'scope');
    const customerClaim = optionalString(payload, 'customer_id');
    const tenantId = optionalString(payload, 'tenant');
    const jti = optionalString(payload, 'jti');

    const ownDataOnly = roles.includes('customer') && !roles.some((r) => STAFF_ROLES.includes(r));
    return {
      subject: sub,
      kind: 'user',
      roles,
      scopes: effectiveScopes(roles, scope),
      ...(ownDataOnly ? { customerId: customerClaim ?? sub } : {}),
      ...(tenantId !== undefined ? { tenantId } : {}),
      ...(jti !== undefined ? { credentialId: jti } : {}),
    };
  }

  private checkLifetime(payload: JWTPayload): void {
    // jose checks iat only with maxTokenAge; a token "issued" in the future is as suspect as one with a future nbf.
    if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + this.clockToleranceSec) throw authErrors.tokenNotYetValid();
    const max = this.options.maxTtlSec;
    if (max === undefined || payload.exp === undefined) return;
    const start = typeof payload.iat === 'number' ? payload.iat : Math.floor(Date.now() / 1000);
    if (payload.exp - start > max + this.clockToleranceSec) throw authErrors.tokenInvalid(`lifetime exceeds ${max}s`);
  }
}

function optionalString(payload: JWTPayload, claim: string): string | undefined {
  const value = payload[claim];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '' || value.length > 256) throw authErrors.tokenInvalid(`${claim} must be a non-empty string`);
  return value;
}

function joseCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Maps jose's failure to one of our codes; anything unexpected counts as an invalid token (fail closed). */
function toAuthError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof JwksUnavailableError) return authErrors.jwksUnavailable(err);
  switch (joseCode(err)) {
    case 'ERR_JWT_EXPIRED':
      return authErrors.tokenExpired(err);
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
      const { claim, reason } = err as { claim?: string; reason?: string };
      if ((claim === 'nbf' || claim === 'iat') && reason === 'check_failed') return authErrors.tokenNotYetValid(err);
      if (reason === 'missing') return authErrors.tokenInvalid(`the ${claim ?? 'required'} claim is missing`, err);
      if (claim === 'iss') return authErrors.tokenInvalid('wrong issuer', err);
      if (claim === 'aud') return authErrors.tokenInvalid('wrong audience', err);
      return authErrors.tokenInvalid(`the ${claim ?? ''} claim is not valid`, err);
    }
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return authErrors.unknownKey(err);
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return authErrors.tokenInvalid('signature verification failed', err);
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return authErrors.tokenInvalid('algorithm not accepted', err);
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JWKS_INVALID':
      return authErrors.jwksUnavailable(err);
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return authErrors.tokenInvalid('the kid matches several keys', err);
    default:
      return authErrors.tokenInvalid('malformed token', err);
  }
}
