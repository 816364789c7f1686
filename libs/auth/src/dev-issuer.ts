import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { API_KEY_SCOPES, createApiKey, readApiKeyStore, revokeApiKey, writeApiKeyStore, type ApiKeyRecord } from './api-key-store';
import { statOrUndefined, writeFileAtomic } from './files';
import { isRole, type Role, type Scope } from './roles';

/** Dev defaults, used outside production when TESSERA_AUTH_ISSUER / _AUDIENCE are unset. */
export const DEV_ISSUER = 'https://auth.tessera.local/dev';
export const DEV_AUDIENCE = 'tessera-api';
/** Tenants `init` creates demo API keys for (their plaintext goes to dev-credentials.json). */
export const DEMO_TENANTS = ['demo', 'payments'] as const;

const ALG = 'ES256';
/** Public keys published in jwks.json: the current one and this many predecessors, so live tokens survive a rotation. */
const PREVIOUS_KEYS_PUBLISHED = 1;

interface StoredKey {
  kid: string;
  alg: typeof ALG;
  createdAt: string;
  publicJwk: JWK;
  privateJwk: JWK;
}

interface IssuerKeysFile {
  current: string;
  keys: StoredKey[];
}

/** dev-credentials.json: plaintext demo API keys for local demo tools only (mode 0600, never committed). */
export interface DevCredentials {
  issuer: string;
  audience: string;
  apiKeys: Record<string, { keyId: string; key: string }>;
}

/** Claims of a token minted by {@link DevIssuer.mint}. */
export interface MintOptions {
  sub: string;
  roles: readonly Role[];
  customerId?: string;
  tenant?: string;
  /** Space-separated scopes to narrow the roles' scopes. */
  scope?: string;
  /** Lifetime in seconds; default 900 (15 min). Negative values give already-expired tokens (tests). */
  ttlSec?: number;
  audience?: string;
  issuer?: string;
  /** `iat`, epoch seconds; default now (tests set it to make expired or future tokens). */
  issuedAt?: number;
  /** `nbf`, epoch seconds; omitted by default. */
  notBefore?: number;
  /** Extra claims (tests: malformed claim types). */
  extraClaims?: Record<string, unknown>;
}

/**
 * A local token issuer for demos, tests and the e2e platform: an ES256 key pair (kid = RFC 7638 thumbprint) in a
 * folder, its public JWKS for verifiers, and the API key store. Not an identity provider: in production tokens
 * come from a real OIDC issuer and only its JWKS URL is configured.
 *
 * Files in `dir` (0755): `issuer-keys.json` (private, 0600), `jwks.json` (public, 0644), `api-keys.json`
 * (digests only, 0644, readable by services in containers), `dev-credentials.json` (plaintext demo keys, 0600).
 */
export class DevIssuer {
  private constructor(
    readonly dir: string,
    private keys: IssuerKeysFile,
  ) {}

  get jwksFile(): string {
    return join(this.dir, 'jwks.json');
  }

  get apiKeysFile(): string {
    return join(this.dir, 'api-keys.json');
  }

  get credentialsFile(): string {
    return join(this.dir, 'dev-credentials.json');
  }

  /** kid of the key new tokens are signed with. */
  get currentKid(): string {
    return this.keys.current;
  }

  /** Opens the issuer in `dir`, creating whatever is missing (idempotent: existing keys and API keys are kept). */
  static async open(dir: string): Promise<DevIssuer> {
    return (await DevIssuer.init(dir)).issuer;
  }

  /** {@link open}, also telling what was created (for the CLI's output). */
  static async init(dir: string, opts: { issuer?: string; audience?: string } = {}): Promise<{ issuer: DevIssuer; created: string[] }> {
    // The folder is world-traversable on purpose: containers running as another user (docker-compose mounts it
    // read-only) must read jwks.json and api-keys.json. The two secrets in it are 0600 files.
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    const created: string[] = [];
    const keysFile = join(dir, 'issuer-keys.json');
    let keys: IssuerKeysFile;
    if (existsSync(keysFile)) {
      keys = JSON.parse(readFileSync(keysFile, 'utf8')) as IssuerKeysFile;
      chmodSync(keysFile, 0o600);
    } else {
      const key = await newKey();
      keys = { current: key.kid, keys: [key] };
      writeFileAtomic(keysFile, `${JSON.stringify(keys, null, 2)}\n`, 0o600);
      created.push(keysFile);
    }
    // An existing folder (mkdtemp, or made 0700 by an earlier version) only gains group/other r-x, never loses bits.
    const mode = statSync(dir).mode & 0o777;
    if ((mode & 0o055) !== 0o055) chmodSync(dir, mode | 0o055);
    const issuer = new DevIssuer(dir, keys);
    if (!existsSync(issuer.jwksFile)) created.push(issuer.jwksFile);
    issuer.publishJwks();
    if (!statOrUndefined(issuer.apiKeysFile)) {
      writeApiKeyStore(issuer.apiKeysFile, { keys: [] });
      created.push(issuer.apiKeysFile);
    } else {
      chmodSync(issuer.apiKeysFile, 0o644); // earlier versions wrote it 0600, unreadable to containers
    }
    if (!existsSync(issuer.credentialsFile)) {
      const apiKeys: DevCredentials['apiKeys'] = {};
      for (const tenant of DEMO_TENANTS) {
        const { key, record } = createApiKey(issuer.apiKeysFile, tenant, API_KEY_SCOPES);
        apiKeys[tenant] = { keyId: record.id, key };
      }
      const credentials: DevCredentials = { issuer: opts.issuer ?? DEV_ISSUER, audience: opts.audience ?? DEV_AUDIENCE, apiKeys };
      writeFileAtomic(issuer.credentialsFile, `${JSON.stringify(credentials, null, 2)}\n`, 0o600);
      created.push(issuer.credentialsFile);
    }
    return { issuer, created };
  }

  /** The demo API keys written by init (plaintext; for local demo tools and tests only). */
  credentials(): DevCredentials {
    return JSON.parse(readFileSync(this.credentialsFile, 'utf8')) as DevCredentials;
  }

  /** Signs a JWT with the current key. */
  async mint(options: MintOptions): Promise<string> {
    const unknown = options.roles.filter((r) => !isRole(r));
    if (unknown.length > 0) throw new Error(`unknown role(s) ${unknown.join(', ')}`);
    const stored = this.keys.keys.find((k) => k.kid === this.keys.current);
    if (!stored) throw new Error(`issuer-keys.json has no key ${this.keys.current}`);
    const privateKey = await importJWK(stored.privateJwk, ALG);
    const iat = options.issuedAt ?? Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = { ...(options.extraClaims ?? {}), roles: [...options.roles] };
    if (options.customerId !== undefined) claims['customer_id'] = options.customerId;
    if (options.tenant !== undefined) claims['tenant'] = options.tenant;
    if (options.scope !== undefined) claims['scope'] = options.scope;
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: ALG, kid: stored.kid, typ: 'JWT' })
      .setSubject(options.sub)
      .setIssuer(options.issuer ?? DEV_ISSUER)
      .setAudience(options.audience ?? DEV_AUDIENCE)
      .setIssuedAt(iat)
      .setExpirationTime(iat + (options.ttlSec ?? 900))
      .setJti(randomUUID());
    if (options.notBefore !== undefined) jwt.setNotBefore(options.notBefore);
    return jwt.sign(privateKey);
  }

  /**
   * Makes a new key current. The previous public key stays in jwks.json, so tokens it signed keep verifying
   * until they expire; keys older than that are dropped from jwks.json (tokens signed by them get UNKNOWN_KEY).
   */
  async rotate(): Promise<{ kid: string; retired: string[] }> {
    const key = await newKey();
    const ordered = [key, ...this.keys.keys];
    const kept = ordered.slice(0, 1 + PREVIOUS_KEYS_PUBLISHED);
    this.keys = { current: key.kid, keys: kept };
    writeFileAtomic(join(this.dir, 'issuer-keys.json'), `${JSON.stringify(this.keys, null, 2)}\n`, 0o600);
    this.publishJwks();
    return { kid: key.kid, retired: ordered.slice(kept.length).map((k) => k.kid) };
  }

  /** Public keys currently published. */
  publishedKids(): string[] {
    return this.keys.keys.map((k) => k.kid);
  }

  createApiKey(tenantId: string, scopes: readonly Scope[] = API_KEY_SCOPES): { key: string; record: ApiKeyRecord } {
    return createApiKey(this.apiKeysFile, tenantId, scopes);
  }

  revokeApiKey(id: string): boolean {
    return revokeApiKey(this.apiKeysFile, id);
  }

  listApiKeys(): ApiKeyRecord[] {
    return readApiKeyStore(this.apiKeysFile).keys;
  }

  private publishJwks(): void {
    const jwks = { keys: this.keys.keys.map((k) => ({ ...k.publicJwk, kid: k.kid, alg: k.alg, use: 'sig' })) };
    const text = `${JSON.stringify(jwks, null, 2)}\n`;
    // Unchanged content is not rewritten, so a re-run of init does not make every verifier reload.
    if (existsSync(this.jwksFile) && readFileSync(this.jwksFile, 'utf8') === text) return;
    writeFileAtomic(this.jwksFile, text, 0o644);
  }
}

async function newKey(): Promise<StoredKey> {
  const { publicKey, privateKey } = await generateKeyPair(ALG, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return { kid, alg: ALG, createdAt: new Date().toISOString(), publicJwk, privateJwk: await exportJWK(privateKey) };
}
