import { createHash } from 'node:crypto';
import { ConfigError } from '@tessera/config';
import { createLogger } from '@tessera/telemetry';

/** Env var holding the key-encryption keys: `kid1:base64(32 bytes),kid2:...`; the first is active. */
export const PII_KEYS_ENV = 'TRANSACTIONS_PII_KEYS';
export const DEV_INSECURE_KEK_ID = 'dev-insecure';

/** Key-encryption keys by id; `activeId` wraps new data, every key can unwrap. */
export interface PiiKeyring {
  activeId: string;
  keys: ReadonlyMap<string, Buffer>;
}

const KID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Parses `kid:base64key,...`. Errors name the variable and the position, never the key material.
 * @throws ConfigError
 */
export function parsePiiKeys(raw: string): PiiKeyring {
  const keys = new Map<string, Buffer>();
  let activeId: string | undefined;
  raw
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .forEach((part, index) => {
      const colon = part.indexOf(':');
      const kid = colon > 0 ? part.slice(0, colon) : '';
      const bad = (reason: string) =>
        new ConfigError(
          [{ variable: PII_KEYS_ENV, reason: `entry ${index + 1}: ${reason}`, example: 'k2025:<base64 of 32 random bytes>' }],
          'transactions',
        );
      if (!KID.test(kid)) throw bad('expected <kid>:<base64 key> with kid of [A-Za-z0-9._-]');
      if (keys.has(kid)) throw bad(`duplicate kid ${kid}`);
      const key = Buffer.from(part.slice(colon + 1), 'base64');
      if (key.length !== 32) throw bad(`key ${kid} must be 32 bytes (AES-256), base64 encoded`);
      keys.set(kid, key);
      activeId ??= kid;
    });
  if (!activeId) throw new ConfigError([{ variable: PII_KEYS_ENV, reason: 'lists no keys' }], 'transactions');
  return { activeId, keys };
}

let warnedDevKey = false;

/**
 * The keyring from the environment. Outside production an unset variable falls back to a fixed,
 * publicly known key named `dev-insecure` (warned once) so local runs need no setup; in production it
 * is a configuration error.
 * @throws ConfigError
 */
export function loadPiiKeyring(env: NodeJS.ProcessEnv = process.env): PiiKeyring {
  const raw = env[PII_KEYS_ENV];
  if (raw && raw.trim() !== '') return parsePiiKeys(raw);
  if (env['NODE_ENV'] === 'production') {
    throw new ConfigError(
      [{ variable: PII_KEYS_ENV, reason: 'is required in production', example: 'k2025:<base64 of 32 random bytes>' }],
      'transactions',
    );
  }
  if (!warnedDevKey) {
    warnedDevKey = true;
    createLogger('PiiKeyring').warn(
      { kekId: DEV_INSECURE_KEK_ID },
      `${PII_KEYS_ENV} not set: using the public dev-insecure key (never in production)`,
    );
  }
  const key = createHash('sha256').update('tessera dev-insecure PII key-encryption key').digest();
  return { activeId: DEV_INSECURE_KEK_ID, keys: new Map([[DEV_INSECURE_KEK_ID, key]]) };
}
