import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { authErrors } from './auth.errors';
import { fileVersion, statOrUndefined, writeFileAtomic } from './files';
import type { Principal } from './principal';
import { isScope, ROLE_SCOPES, type Scope } from './roles';

/** Scopes an API key may carry: those of the `ingest` role (machine ingest and analytics reads). */
export const API_KEY_SCOPES: readonly Scope[] = ROLE_SCOPES.ingest;

/** `tsk_<keyId>_<secret>`: keyId 12 lowercase base32 chars, secret 32 random bytes base64url (43 chars). */
const KEY_FORMAT = /^tsk_([a-z2-7]{12})_([A-Za-z0-9_-]{43})$/;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const TENANT = /^[A-Za-z0-9._-]{1,64}$/;

/** One key as stored: never the key itself, only the SHA-256 of the whole key string. */
export interface ApiKeyRecord {
  id: string;
  tenantId: string;
  scopes: Scope[];
  /** Hex SHA-256 of the whole key (`tsk_<id>_<secret>`). A 256-bit random secret needs no slow hash. */
  sha256: string;
  createdAt: string;
  revokedAt?: string;
}

/** The store file's shape: `{ "keys": [...] }`. */
export interface ApiKeyStoreFile {
  keys: ApiKeyRecord[];
}

function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** Splits a presented key into its id, or undefined when it is not in the `tsk_` format. */
export function parseApiKey(key: string): { id: string } | undefined {
  const match = KEY_FORMAT.exec(key);
  const id = match?.[1];
  return id === undefined ? undefined : { id };
}

/** A new random key and its record (not yet stored). */
export function generateApiKey(
  tenantId: string,
  scopes: readonly Scope[] = API_KEY_SCOPES,
  now = new Date(),
): { key: string; record: ApiKeyRecord } {
  if (!TENANT.test(tenantId)) throw new Error('tenant must be 1-64 characters of A-Z a-z 0-9 . _ -');
  const bad = scopes.filter((s) => !API_KEY_SCOPES.includes(s));
  if (bad.length > 0) throw new Error(`API keys may only carry ${API_KEY_SCOPES.join(', ')}; not ${bad.join(', ')}`);
  if (scopes.length === 0) throw new Error('an API key needs at least one scope');
  const id = [...randomBytes(12)].map((b) => BASE32[b & 31]).join('');
  const key = `tsk_${id}_${randomBytes(32).toString('base64url')}`;
  return { key, record: { id, tenantId, scopes: [...new Set(scopes)], sha256: sha256Hex(key), createdAt: now.toISOString() } };
}

/** Parses and validates a store file's content; throws with a message naming the bad entry (never a digest). */
export function parseApiKeyStore(text: string): ApiKeyStoreFile {
  const value = JSON.parse(text) as { keys?: unknown };
  if (!value || !Array.isArray(value.keys)) throw new Error('expected {"keys": [...]}');
  const keys = (value.keys as unknown[]).map((raw, index) => {
    const r = raw as Partial<ApiKeyRecord> | null;
    const where = `keys[${index}]`;
    if (!r || typeof r !== 'object') throw new Error(`${where} must be an object`);
    if (typeof r.id !== 'string' || !/^[a-z2-7]{12}$/.test(r.id)) throw new Error(`${where}.id must be 12 base32 characters`);
    if (typeof r.tenantId !== 'string' || !TENANT.test(r.tenantId)) throw new Error(`${where}.tenantId is not a valid tenant id`);
    if (!Array.isArray(r.scopes) || !r.scopes.every((s) => isScope(s) && API_KEY_SCOPES.includes(s))) {
      throw new Error(`${where}.scopes must be a subset of ${API_KEY_SCOPES.join(', ')}`);
    }
    if (typeof r.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(r.sha256)) throw new Error(`${where}.sha256 must be 64 hex characters`);
    if (typeof r.createdAt !== 'string') throw new Error(`${where}.createdAt must be an ISO date`);
    if (r.revokedAt !== undefined && typeof r.revokedAt !== 'string') throw new Error(`${where}.revokedAt must be an ISO date`);
    return r as ApiKeyRecord;
  });
  return { keys };
}

/** Options of {@link ApiKeyStore}. */
export interface ApiKeyStoreOptions {
  /** Path of the JSON store (`TESSERA_API_KEYS_FILE`). */
  file: string;
  /** The file's mtime is checked at most this often; default 1000 ms (so a revocation applies within ~1 s). */
  checkIntervalMs?: number;
  /** Told when a changed file cannot be parsed (the previous keys stay in force). */
  onReloadError?: (error: Error) => void;
}

/**
 * Per-tenant, scoped, revocable API keys held as SHA-256 digests in a JSON file that is re-read when it changes,
 * so `npm run auth -- apikey revoke` takes effect without a restart. A deleted file means no keys (fail closed);
 * a file that became unparsable keeps the last good keys.
 */
export class ApiKeyStore {
  private readonly byId = new Map<string, ApiKeyRecord>();
  private version: string | undefined;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private readonly checkIntervalMs: number;

  constructor(private readonly options: ApiKeyStoreOptions) {
    this.checkIntervalMs = options.checkIntervalMs ?? 1000;
    try {
      this.reloadIfChanged();
    } catch (err) {
      throw new Error(`API key store ${options.file} is not valid: ${(err as Error).message}`, { cause: err });
    }
  }

  get file(): string {
    return this.options.file;
  }

  /** Number of keys currently accepted (not revoked). */
  get size(): number {
    this.maybeReload();
    return [...this.byId.values()].filter((r) => r.revokedAt === undefined).length;
  }

  /**
   * The principal of a valid key: kind `api-key`, subject `apikey:<id>`, role `ingest`, the key's tenant and scopes.
   * @throws AppError UNAUTHENTICATED `AUTH.API_KEY_REQUIRED` (no key) or `AUTH.API_KEY_INVALID` (malformed,
   *   unknown or revoked: one code, so the answer reveals nothing about which keys exist).
   */
  authenticate(key: string | undefined): Principal {
    if (key === undefined || key === '') throw authErrors.apiKeyRequired();
    this.maybeReload();
    const parsed = parseApiKey(key);
    let record = parsed ? this.byId.get(parsed.id) : undefined;
    if (parsed && !record) {
      // A key created since the last check must work at once; a stat is cheap (the file is re-read only when it
      // changed), and the gateway rate-limits failed authentications per IP.
      this.forceReload();
      record = this.byId.get(parsed.id);
    }
    // Compare against a dummy digest when the id is unknown, so timing does not tell known ids from unknown ones.
    const expected = Buffer.from(record?.sha256 ?? DUMMY_DIGEST, 'hex');
    const actual = createHash('sha256').update(key, 'utf8').digest();
    const matches = timingSafeEqual(expected, actual);
    if (!record || !matches || record.revokedAt !== undefined) throw authErrors.apiKeyInvalid();
    return {
      subject: `apikey:${record.id}`,
      kind: 'api-key',
      roles: ['ingest'],
      scopes: new Set(record.scopes),
      tenantId: record.tenantId,
      credentialId: record.id,
    };
  }

  private maybeReload(): void {
    if (Date.now() - this.checkedAt < this.checkIntervalMs) return;
    this.forceReload();
  }

  private forceReload(): void {
    try {
      this.reloadIfChanged();
    } catch (err) {
      this.options.onReloadError?.(err as Error);
    }
  }

  private reloadIfChanged(): void {
    this.checkedAt = Date.now();
    const stats = statOrUndefined(this.options.file);
    if (!stats) {
      this.byId.clear();
      this.version = undefined;
      return;
    }
    const version = fileVersion(stats);
    if (version === this.version) return;
    const store = parseApiKeyStore(readFileSync(this.options.file, 'utf8'));
    this.byId.clear();
    for (const record of store.keys) this.byId.set(record.id, record);
    this.version = version;
  }
}

const DUMMY_DIGEST = sha256Hex('tessera: no such key');

/** Reads a store file; a missing file is an empty store. */
export function readApiKeyStore(file: string): ApiKeyStoreFile {
  if (!statOrUndefined(file)) return { keys: [] };
  return parseApiKeyStore(readFileSync(file, 'utf8'));
}

/** Creates a key, appends its record to the store file and returns the plaintext key (shown once, never stored). */
export function createApiKey(
  file: string,
  tenantId: string,
  scopes: readonly Scope[] = API_KEY_SCOPES,
): { key: string; record: ApiKeyRecord } {
  const store = readApiKeyStore(file);
  const created = generateApiKey(tenantId, scopes);
  store.keys.push(created.record);
  writeApiKeyStore(file, store);
  return created;
}

/** Marks a key revoked (kept in the file for audit); returns false when the id is unknown. Idempotent. */
export function revokeApiKey(file: string, id: string, now = new Date()): boolean {
  const store = readApiKeyStore(file);
  const record = store.keys.find((k) => k.id === id);
  if (!record) return false;
  record.revokedAt ??= now.toISOString();
  writeApiKeyStore(file, store);
  return true;
}

/**
 * Writes the store atomically, mode 0644: it holds only SHA-256 digests of 256-bit random keys (useless to a
 * reader), and services running as another user (containers) must be able to read it.
 */
export function writeApiKeyStore(file: string, store: ApiKeyStoreFile): void {
  writeFileAtomic(file, `${JSON.stringify(store, null, 2)}\n`, 0o644);
}
