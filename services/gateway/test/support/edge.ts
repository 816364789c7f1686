/**
 * Shared by the gateway's integration tests: a real dev issuer in a temp dir (real ES256 keys, JWKS file and hashed
 * API key store, as `npm run auth -- init` makes them), the auth components built from it the way main.ts builds
 * them, and the gateway app configured exactly as main.ts configures it (helmet, CORS, timeouts, guard).
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type AuthComponents, authFromEnv, DevIssuer, type MintOptions, type Role } from '@tessera/auth';
import { type GatewayConfig, gatewayConfigSchema } from '../../src/config';
import { createGatewayApp } from '../../src/http/app-setup';

// In-test gRPC servers are plaintext; the mTLS transport has its own tests in libs/grpc.
process.env['TESSERA_GRPC_PLAINTEXT'] = 'true';

export interface TestAuth {
  issuer: DevIssuer;
  auth: AuthComponents;
  /** A JWT from the test issuer; `roles` as given, everything else default unless overridden. */
  token(sub: string, roles: Role[], extra?: Partial<MintOptions>): Promise<string>;
  /** `{ authorization: 'Bearer …' }` for `sub` with `roles`. */
  bearer(sub: string, roles: Role[], extra?: Partial<MintOptions>): Promise<Record<string, string>>;
  /** Plaintext demo API key of tenant `demo` / `payments` (created by init). */
  apiKey(tenant: 'demo' | 'payments'): string;
  cleanup(): void;
}

/** `tenants`: extra tenants to create API keys for before the store is first read (see `tenantKeys`). */
export async function createTestAuth(tenants: string[] = []): Promise<TestAuth & { tenantKeys: Record<string, string> }> {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-auth-'));
  const issuer = await DevIssuer.open(dir);
  const tenantKeys = Object.fromEntries(tenants.map((tenant) => [tenant, issuer.createApiKey(tenant).key]));
  const auth = authFromEnv({ TESSERA_AUTH_JWKS_FILE: issuer.jwksFile, TESSERA_API_KEYS_FILE: issuer.apiKeysFile });
  const token = (sub: string, roles: Role[], extra: Partial<MintOptions> = {}) => issuer.mint({ sub, roles, ...extra });
  return {
    issuer,
    auth,
    tenantKeys,
    token,
    bearer: async (sub, roles, extra) => ({ authorization: `Bearer ${await token(sub, roles, extra)}` }),
    apiKey: (tenant) => {
      const entry = issuer.credentials().apiKeys[tenant];
      if (!entry) throw new Error(`no demo key for ${tenant}`);
      return entry.key;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Gateway config for tests: generous rate limits unless a test sets them, and a quiet app. */
export function testConfig(overrides: Record<string, string>): GatewayConfig {
  return gatewayConfigSchema.parse({
    GATEWAY_RATE_LIMITS: 'read=10000/1s,write=10000/1s,public=10000/1s,ingest=10000/1s,live=10000/1s,auth-failure=10000/1s',
    ...overrides,
  });
}

/** The gateway as main.ts builds it, initialised (use `app.inject`) but not listening. */
export async function startGateway(config: GatewayConfig, auth: AuthComponents): Promise<NestFastifyApplication> {
  const app = await createGatewayApp(config, auth, { logger: false });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}
