import { createHash } from 'node:crypto';
import { AppError } from '@tessera/errors';
import { z } from 'zod';

/**
 * @deprecated Replaced by the hashed {@link ApiKeyStore} (`npm run auth -- init` creates demo keys); removed once
 * gateway, ingest and loadgen have migrated.
 * The only key that works without configuration, and only outside production (the demo tenant). */
export const DEV_API_KEYS = 'demo:demo-key,payments:payments-key';

const TENANT = /^[A-Za-z0-9._-]{1,64}$/;
const KEY = /^[\x21-\x2b\x2d-\x7e]{8,256}$/; // printable ASCII except space and ','

/** One configured key: `tenant:key`. */
export interface ApiKeyEntry {
  tenantId: string;
  key: string;
}

/** Parses `tenantA:keyA,tenantB:keyB` (a tenant may have several keys, for rotation); throws on a malformed list.
 * @deprecated Use ApiKeyStore.
 */
export function parseApiKeys(raw: string): ApiKeyEntry[] {
  const entries: ApiKeyEntry[] = [];
  const seen = new Set<string>();
  const parts = raw
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length === 0) throw new Error('must list at least one tenant:key');
  parts.forEach((part, index) => {
    const colon = part.indexOf(':');
    const tenantId = colon < 0 ? '' : part.slice(0, colon);
    const key = colon < 0 ? '' : part.slice(colon + 1);
    // Messages name the entry's position, never its content: the list holds secrets.
    if (!TENANT.test(tenantId)) throw new Error(`entry ${index + 1}: tenant must be 1-64 characters of A-Z a-z 0-9 . _ -`);
    if (!KEY.test(key)) throw new Error(`entry ${index + 1}: key must be 8-256 printable characters without spaces or commas`);
    if (seen.has(key)) throw new Error(`entry ${index + 1}: the same key is listed twice`);
    seen.add(key);
    entries.push({ tenantId, key });
  });
  return entries;
}

/**
 * zod schema for `INGEST_API_KEYS` (`tenant:key,...`). Issues never echo the value, since it is a secret.
 * @deprecated Use authEnvSchema (TESSERA_API_KEYS_FILE).
 */
export function apiKeys() {
  return z
    .string()
    .transform((raw, ctx) => {
      try {
        return parseApiKeys(raw);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message, input: '<redacted>' });
        return z.NEVER;
      }
    })
    .meta({ examples: ['tenantA:secretA,tenantB:secretB'] });
}

function digest(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** How a caller failed to authenticate; both are UNAUTHENTICATED (401) with distinct codes. */
export const AuthErrorCodes = {
  keyRequired: 'AUTH.API_KEY_REQUIRED',
  keyInvalid: 'AUTH.API_KEY_INVALID',
  tenantForbidden: 'AUTH.TENANT_FORBIDDEN',
} as const;

/**
 * Per-tenant API keys. Keys are held only as SHA-256 digests and looked up by the digest of the presented
 * key, so the lookup time does not depend on how much of a key an attacker guessed right.
 * @deprecated Use ApiKeyStore (hashed, scoped, revocable without restart).
 */
export class ApiKeyRegistry {
  private readonly byDigest = new Map<string, string>();

  constructor(entries: readonly ApiKeyEntry[]) {
    for (const { tenantId, key } of entries) this.byDigest.set(digest(key), tenantId);
  }

  /**
   * The registry a service runs with: the configured keys, or {@link DEV_API_KEYS} when none are configured
   * and this is not production. In production without keys it is empty, so every key is refused (fail closed).
   */
  static forEnvironment(configured: readonly ApiKeyEntry[] | undefined, nodeEnv: string | undefined): ApiKeyRegistry {
    if (configured && configured.length > 0) return new ApiKeyRegistry(configured);
    return new ApiKeyRegistry(nodeEnv === 'production' ? [] : parseApiKeys(DEV_API_KEYS));
  }

  /** Number of configured keys (0 means nobody can authenticate). */
  get size(): number {
    return this.byDigest.size;
  }

  /** The tenant that owns `key`, or undefined. */
  tenantOf(key: string | undefined): string | undefined {
    if (!key) return undefined;
    return this.byDigest.get(digest(key));
  }

  /** The key's tenant; throws UNAUTHENTICATED when the key is missing or unknown. */
  authenticate(key: string | undefined): string {
    if (!key) {
      throw new AppError({ code: AuthErrorCodes.keyRequired, kind: 'UNAUTHENTICATED', message: 'Send an API key (X-Api-Key header)' });
    }
    const tenantId = this.tenantOf(key);
    if (tenantId === undefined) throw new AppError({ code: AuthErrorCodes.keyInvalid, kind: 'UNAUTHENTICATED', message: 'The API key is not valid' });
    return tenantId;
  }

  /** Authenticates and checks the key belongs to `tenantId`; another tenant's data is PERMISSION_DENIED. */
  authorizeTenant(key: string | undefined, tenantId: string): string {
    const owner = this.authenticate(key);
    if (owner !== tenantId) {
      throw new AppError({ code: AuthErrorCodes.tenantForbidden, kind: 'PERMISSION_DENIED', message: 'The API key does not grant access to this tenant', metadata: { tenantId } });
    }
    return owner;
  }
}
