import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Metadata } from '@grpc/grpc-js';
import { DevIssuer, type MintOptions } from './dev-issuer';

/** A throwaway dev issuer: real ES256 tokens and hashed API keys, and the env pointing a service's verifier at them. */
export interface TestAuth {
  issuer: DevIssuer;
  /** TESSERA_AUTH_JWKS_FILE / TESSERA_API_KEYS_FILE for the service config. */
  env: Record<string, string>;
  /** Call options carrying `authorization: Bearer <fresh token>`. */
  bearer(sub: string, roles: MintOptions['roles'], claims?: Omit<MintOptions, 'sub' | 'roles'>): Promise<{ metadata: Metadata }>;
  /** Call options carrying `x-api-key`. */
  apiKey(key: string): { metadata: Metadata };
  close(): void;
}

/** For tests: a dev issuer in a fresh temp dir (removed by `close()`), with gRPC metadata helpers. */
export async function startTestAuth(): Promise<TestAuth> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tessera-auth-'));
  const issuer = await DevIssuer.open(dir);
  return {
    issuer,
    env: { TESSERA_AUTH_JWKS_FILE: issuer.jwksFile, TESSERA_API_KEYS_FILE: issuer.apiKeysFile },
    bearer: async (sub, roles, claims = {}) => {
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${await issuer.mint({ sub, roles, ...claims })}`);
      return { metadata };
    },
    apiKey: (key) => {
      const metadata = new Metadata();
      metadata.set('x-api-key', key);
      return { metadata };
    },
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}
