import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@tessera/config';
import { AUTH_CODES } from './auth.errors';
import { authFromEnv, authSettingsFromEnv, DEFAULT_MAX_TTL_SEC } from './auth-env';
import { DEV_AUDIENCE, DEV_ISSUER, DevIssuer } from './dev-issuer';

describe('authSettingsFromEnv', () => {
  let dir: string;
  let issuer: DevIssuer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-env-'));
    issuer = await DevIssuer.open(dir);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('applies the dev issuer and audience outside production', () => {
    const s = authSettingsFromEnv({ TESSERA_AUTH_JWKS_FILE: issuer.jwksFile });
    expect(s).toMatchObject({ issuer: DEV_ISSUER, audience: DEV_AUDIENCE, jwks: { file: issuer.jwksFile }, clockToleranceSec: 30 });
    expect(s.apiKeysFile).toMatch(/\.tessera\/auth\/api-keys\.json$/);
  });

  it('refuses to boot in production without explicit settings, naming each variable', () => {
    const err = (() => {
      try {
        authSettingsFromEnv({ NODE_ENV: 'production' }, 'gateway');
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.issues.map((i) => i.variable).sort()).toEqual([
      'TESSERA_API_KEYS_FILE',
      'TESSERA_AUTH_AUDIENCE',
      'TESSERA_AUTH_ISSUER',
      'TESSERA_AUTH_JWKS_FILE',
    ]);
  });

  it('refuses a plain-http JWKS URL in production and both JWKS sources at once', () => {
    const prod = { NODE_ENV: 'production', TESSERA_AUTH_ISSUER: 'https://i', TESSERA_AUTH_AUDIENCE: 'a', TESSERA_API_KEYS_FILE: '/k.json' };
    expect(() => authSettingsFromEnv({ ...prod, TESSERA_AUTH_JWKS_URL: 'http://idp/jwks' })).toThrow('https://');
    expect(authSettingsFromEnv({ ...prod, TESSERA_AUTH_JWKS_URL: 'https://idp/jwks' }).jwks).toEqual({ url: 'https://idp/jwks' });
    expect(() => authSettingsFromEnv({ TESSERA_AUTH_JWKS_FILE: issuer.jwksFile, TESSERA_AUTH_JWKS_URL: 'https://idp/jwks' })).toThrow(
      'not both',
    );
  });

  it('tells the operator to run the init command when the JWKS file is missing', () => {
    expect(() => authSettingsFromEnv({ TESSERA_AUTH_JWKS_FILE: join(dir, 'missing.json') })).toThrow('npm run auth -- init');
  });

  it('validates numbers', () => {
    expect(() => authSettingsFromEnv({ TESSERA_AUTH_JWKS_FILE: issuer.jwksFile, TESSERA_AUTH_CLOCK_TOLERANCE_SEC: '9999' })).toThrow(
      'TESSERA_AUTH_CLOCK_TOLERANCE_SEC',
    );
    expect(authSettingsFromEnv({ TESSERA_AUTH_JWKS_FILE: issuer.jwksFile, TESSERA_AUTH_MAX_TTL_SEC: '3600' }).maxTtlSec).toBe(3600);
  });
});

describe('authFromEnv', () => {
  it('wires a verifier, key store and caller authenticator that accept the dev issuer credentials', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-env-'));
    try {
      const issuer = await DevIssuer.open(dir);
      const { callers, apiKeys } = authFromEnv({ TESSERA_AUTH_JWKS_FILE: issuer.jwksFile, TESSERA_API_KEYS_FILE: issuer.apiKeysFile });
      const token = await issuer.mint({ sub: 'op', roles: ['operator'] });
      await expect(callers.authenticate({ get: (k) => (k === 'authorization' ? [`Bearer ${token}`] : []) })).resolves.toMatchObject({
        subject: 'op',
      });
      expect(apiKeys.authenticate(issuer.credentials().apiKeys['payments']!.key).tenantId).toBe('payments');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a validly signed token with a 10-year lifetime by default, and follows TESSERA_AUTH_MAX_TTL_SEC (issue #13)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-env-'));
    try {
      const issuer = await DevIssuer.open(dir);
      const env = { TESSERA_AUTH_JWKS_FILE: issuer.jwksFile, TESSERA_API_KEYS_FILE: issuer.apiKeysFile };
      expect(authSettingsFromEnv(env).maxTtlSec).toBe(DEFAULT_MAX_TTL_SEC);
      const decade = await issuer.mint({ sub: 'op', roles: ['operator'], ttlSec: 10 * 365 * 86_400 });
      await expect(authFromEnv(env).verifier.verify(decade)).rejects.toMatchObject({ code: AUTH_CODES.tokenInvalid });
      const workday = await issuer.mint({ sub: 'op', roles: ['operator'], ttlSec: 8 * 3600 });
      await expect(authFromEnv(env).verifier.verify(workday)).resolves.toMatchObject({ subject: 'op' });
      await expect(authFromEnv({ ...env, TESSERA_AUTH_MAX_TTL_SEC: '3600' }).verifier.verify(workday)).rejects.toMatchObject({
        code: AUTH_CODES.tokenInvalid,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
