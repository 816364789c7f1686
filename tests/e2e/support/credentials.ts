import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_AUDIENCE, DEV_ISSUER, DevIssuer, type MintOptions } from '@tessera/auth';
import { DEV_TLS_IDENTITIES, ensureDevPki, grpcTransportFromEnv, tlsEnv } from '@tessera/grpc';
import type { ChannelCredentials } from '@grpc/grpc-js';

/** The certificate the test process itself presents to the services' gRPC health endpoints. */
const PROBE_IDENTITY = 'e2e-probe';

/**
 * Real credentials for one e2e run, in throwaway folders (never the developer's .tessera/): a dev token issuer
 * with its JWKS, hashed API key store and demo tenant keys, and a dev CA with a certificate per service, so every
 * spawned service verifies real tokens and speaks mTLS exactly as `npm run up` does.
 */
export interface E2eCredentials {
  /** Environment every service process gets: auth files, TLS dir, plaintext explicitly off. */
  env: Record<string, string>;
  /** A signed bearer token from this run's issuer. */
  mint(options: MintOptions): Promise<string>;
  /** `{ authorization: 'Bearer <jwt>' }` for fetch. */
  bearer(options: MintOptions): Promise<Record<string, string>>;
  /** Plaintext API keys of the demo tenants (`demo`, `payments`). */
  apiKeys: Record<string, string>;
  /** A new scoped API key for another tenant, valid at once (the store file is re-read). */
  createApiKey(tenant: string): string;
  /** Client credentials of the test's own mTLS identity, for gRPC health probes. */
  grpc: ChannelCredentials;
  /** The folders, for tests that need a second CA or want to rotate keys. */
  authDir: string;
  tlsDir: string;
  cleanup(): void;
}

export async function createCredentials(): Promise<E2eCredentials> {
  const root = mkdtempSync(join(tmpdir(), 'tessera-e2e-creds-'));
  const authDir = join(root, 'auth');
  const tlsDir = join(root, 'tls');
  const { issuer } = await DevIssuer.init(authDir, { issuer: DEV_ISSUER, audience: DEV_AUDIENCE });
  ensureDevPki({ dir: tlsDir, identities: [...DEV_TLS_IDENTITIES, PROBE_IDENTITY], caName: 'Tessera e2e CA' });
  const env: Record<string, string> = {
    TESSERA_AUTH_ISSUER: DEV_ISSUER,
    TESSERA_AUTH_AUDIENCE: DEV_AUDIENCE,
    TESSERA_AUTH_JWKS_FILE: issuer.jwksFile,
    TESSERA_API_KEYS_FILE: issuer.apiKeysFile,
    TESSERA_AUTH_DIR: authDir,
    ...tlsEnv(tlsDir),
  };
  const apiKeys = Object.fromEntries(Object.entries(issuer.credentials().apiKeys).map(([tenant, { key }]) => [tenant, key]));
  return {
    env,
    mint: (options) => issuer.mint(options),
    bearer: async (options) => ({ authorization: `Bearer ${await issuer.mint(options)}` }),
    apiKeys,
    createApiKey: (tenant) => issuer.createApiKey(tenant).key,
    grpc: grpcTransportFromEnv(PROBE_IDENTITY, { ...env, NODE_ENV: 'test' }).client,
    authDir,
    tlsDir,
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/**
 * The console's key fragment as `npm run up` prints it (`apiKey=<demo>&paymentsKey=<payments>`): the gateway hands the
 * page no credential (issue #13), so a test opens the console as an operator does, with the keys in the fragment.
 */
export function consoleKeys(apiKeys: Record<string, string>): string {
  return new URLSearchParams({ apiKey: apiKeys['demo'] ?? '', paymentsKey: apiKeys['payments'] ?? '' }).toString();
}
