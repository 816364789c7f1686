import { readFile, stat } from 'node:fs/promises';
import { createLocalJWKSet, createRemoteJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { fileVersion } from './files';

/** Where a verifier gets its public keys. */
export type JwksSource =
  | { file: string; /** How often at most the file's mtime is checked; default 1000 ms. */ checkIntervalMs?: number }
  | {
      url: string;
      /** Minimum time between two fetches (a token with an unknown kid triggers one); default 30 000 ms. */
      cooldownMs?: number;
      /** Keys are refetched after this long even if every kid is known; default 600 000 ms. */
      cacheMaxAgeMs?: number;
      /** HTTP timeout of a fetch; default 5000 ms. */
      timeoutMs?: number;
    };

/** Thrown when the key set cannot be loaded at all; the verifier maps it to `AUTH.JWKS_UNAVAILABLE` (503). */
export class JwksUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JwksUnavailableError';
  }
}

/** A key resolver jose can verify with, plus a hook to force a reload when a token names an unknown kid. */
export interface KeyResolver {
  getKey: JWTVerifyGetKey;
  /** Reloads if the source may have changed; returns true when a newer key set was loaded. */
  refresh(): Promise<boolean>;
}

/** jose errors that are about the token's header (kid/alg), not about fetching the key set. */
const KEY_SELECTION_ERRORS = new Set(['ERR_JWKS_NO_MATCHING_KEY', 'ERR_JWKS_MULTIPLE_MATCHING_KEYS', 'ERR_JOSE_NOT_SUPPORTED']);

export function keyResolverOf(source: JwksSource): KeyResolver {
  if ('file' in source) return new FileJwks(source.file, source.checkIntervalMs ?? 1000);
  const getKey = createRemoteJWKSet(new URL(source.url), {
    cooldownDuration: source.cooldownMs ?? 30_000,
    cacheMaxAge: source.cacheMaxAgeMs ?? 600_000,
    timeoutDuration: source.timeoutMs ?? 5000,
  });
  // jose's remote set already refetches on an unknown kid (respecting the cooldown). Fetch failures (network,
  // timeout, non-200, bad JSON) are ours to report as "keys unavailable", not as a bad token.
  const wrapped: JWTVerifyGetKey = async (header, token) => {
    try {
      return await getKey(header, token);
    } catch (err) {
      const code = (err as { code?: unknown } | null)?.code;
      if (typeof code === 'string' && KEY_SELECTION_ERRORS.has(code)) throw err;
      throw new JwksUnavailableError(`JWKS ${source.url} could not be fetched`, { cause: err });
    }
  };
  return { getKey: wrapped, refresh: () => Promise.resolve(false) };
}

/**
 * A JWKS read from a file and re-read when the file changes (checked at most every `checkIntervalMs`, and at once
 * when a token names an unknown kid), so the issuer can rotate keys without restarting any verifier.
 */
export class FileJwks implements KeyResolver {
  private version: string | undefined;
  private keySet: JWTVerifyGetKey | undefined;
  private checkedAt = 0;
  private loading: Promise<boolean> | undefined;

  constructor(
    readonly file: string,
    private readonly checkIntervalMs = 1000,
  ) {}

  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    if (!this.keySet || Date.now() - this.checkedAt >= this.checkIntervalMs) await this.refresh();
    if (!this.keySet) throw new JwksUnavailableError(`JWKS file ${this.file} could not be loaded`);
    return this.keySet(header, token);
  };

  /** Re-reads the file if its version changed; concurrent callers share one read. */
  refresh(): Promise<boolean> {
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async load(): Promise<boolean> {
    this.checkedAt = Date.now();
    let version: string;
    try {
      version = fileVersion(await stat(this.file));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new JwksUnavailableError(
          `JWKS file ${this.file} does not exist: run \`npm run auth -- init\` or set TESSERA_AUTH_JWKS_FILE`,
          { cause: err },
        );
      }
      throw new JwksUnavailableError(`JWKS file ${this.file} cannot be read`, { cause: err });
    }
    if (version === this.version && this.keySet) return false;
    let jwks: JSONWebKeySet;
    try {
      jwks = parseJwks(await readFile(this.file, 'utf8'));
    } catch (err) {
      // Keep serving the last good key set: a bad edit must not lock every user out.
      if (this.keySet) return false;
      throw new JwksUnavailableError(`JWKS file ${this.file} is not a valid JWKS: ${(err as Error).message}`, { cause: err });
    }
    this.keySet = createLocalJWKSet(jwks);
    this.version = version;
    return true;
  }
}

function parseJwks(text: string): JSONWebKeySet {
  const value = JSON.parse(text) as { keys?: unknown };
  if (!value || !Array.isArray(value.keys)) throw new Error('expected {"keys": [...]}');
  for (const key of value.keys as unknown[]) {
    if (!key || typeof key !== 'object') throw new Error('every key must be an object');
    if ('d' in key || 'k' in key) throw new Error('contains a private or symmetric key; publish only public keys');
  }
  return value as JSONWebKeySet;
}
