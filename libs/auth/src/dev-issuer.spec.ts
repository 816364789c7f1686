import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKeyStore } from './api-key-store';
import { DEMO_TENANTS, DevIssuer } from './dev-issuer';

describe(DevIssuer, () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-issuer-'));
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('open', () => {
    it('is idempotent: the same signing key and demo keys on a second open', async () => {
      const first = await DevIssuer.open(dir);
      const credentials = first.credentials();
      const second = await DevIssuer.open(dir);
      expect(second.currentKid).toBe(first.currentKid);
      expect(second.credentials()).toEqual(credentials);
      expect(second.listApiKeys()).toHaveLength(DEMO_TENANTS.length);
    });

    it('writes demo keys the store accepts, and publishes only public key material', async () => {
      const issuer = await DevIssuer.open(dir);
      const store = new ApiKeyStore({ file: issuer.apiKeysFile });
      for (const tenant of DEMO_TENANTS) expect(store.authenticate(issuer.credentials().apiKeys[tenant]!.key).tenantId).toBe(tenant);
      const jwks = JSON.parse(readFileSync(issuer.jwksFile, 'utf8')) as { keys: Record<string, unknown>[] };
      expect(jwks.keys).toEqual([expect.objectContaining({ kid: issuer.currentKid, alg: 'ES256', use: 'sig', kty: 'EC' })]);
      expect(jwks.keys[0]).not.toHaveProperty('d');
    });
  });

  describe('rotate', () => {
    it('publishes the new key and its predecessor, retiring older ones', async () => {
      const issuer = await DevIssuer.open(dir);
      const k0 = issuer.currentKid;
      const { kid: k1 } = await issuer.rotate();
      expect(issuer.publishedKids()).toEqual([k1, k0]);
      const { kid: k2, retired } = await issuer.rotate();
      expect(issuer.publishedKids()).toEqual([k2, k1]);
      expect(retired).toEqual([k0]);
      expect((await DevIssuer.open(dir)).currentKid).toBe(k2);
    });
  });

  describe('mint', () => {
    it('refuses unknown roles', async () => {
      const issuer = await DevIssuer.open(dir);
      await expect(issuer.mint({ sub: 'x', roles: ['root' as never] })).rejects.toThrow('unknown role');
    });
  });
});
