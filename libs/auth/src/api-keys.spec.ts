import { AppError } from '@tessera/errors';
import { ApiKeyRegistry, apiKeys, parseApiKeys } from './api-keys';

describe('parseApiKeys', () => {
  it('reads tenant:key pairs, several keys per tenant, keys may contain colons', () => {
    expect(parseApiKeys(' a:secret-aaa , b:sec:ret-bb,a:rotated-aa ')).toEqual([
      { tenantId: 'a', key: 'secret-aaa' },
      { tenantId: 'b', key: 'sec:ret-bb' },
      { tenantId: 'a', key: 'rotated-aa' },
    ]);
  });

  it.each([
    ['', 'at least one'],
    ['nocolon', 'entry 1: tenant'],
    ['a:short', 'entry 1: key'],
    ['a:secret-aaa,b c:secret-bbb', 'entry 2: tenant'],
    ['a:secret-aaa,b:secret-aaa', 'listed twice'],
  ])('refuses %j', (raw, reason) => {
    expect(() => parseApiKeys(raw)).toThrow(reason);
  });
});

describe('apiKeys', () => {
  it('never echoes the secret in an issue', () => {
    const result = apiKeys().safeParse('tenant:tiny');
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error)).not.toContain('tiny');
  });
});

describe('ApiKeyRegistry', () => {
  const registry = new ApiKeyRegistry(parseApiKeys('acme:acme-secret-1,globex:globex-secret'));

  describe('authenticate', () => {
    it('returns the tenant of a known key', () => {
      expect(registry.authenticate('globex-secret')).toBe('globex');
    });

    it('refuses a missing key and an unknown key with distinct codes', () => {
      expect(() => registry.authenticate(undefined)).toThrow(expect.objectContaining({ code: 'AUTH.API_KEY_REQUIRED', kind: 'UNAUTHENTICATED' }) as AppError);
      expect(() => registry.authenticate('acme-secret-2')).toThrow(expect.objectContaining({ code: 'AUTH.API_KEY_INVALID', kind: 'UNAUTHENTICATED' }) as AppError);
    });
  });

  describe('authorizeTenant', () => {
    it('refuses a valid key used for another tenant', () => {
      expect(registry.authorizeTenant('acme-secret-1', 'acme')).toBe('acme');
      expect(() => registry.authorizeTenant('acme-secret-1', 'globex')).toThrow(expect.objectContaining({ code: 'AUTH.TENANT_FORBIDDEN', kind: 'PERMISSION_DENIED' }) as AppError);
    });
  });

  describe('forEnvironment', () => {
    it('falls back to the demo key only outside production', () => {
      expect(ApiKeyRegistry.forEnvironment(undefined, 'development').tenantOf('demo-key')).toBe('demo');
      const prod = ApiKeyRegistry.forEnvironment(undefined, 'production');
      expect(prod.size).toBe(0);
      expect(prod.tenantOf('demo-key')).toBeUndefined();
    });

    it('uses the configured keys and then no demo key', () => {
      const configured = ApiKeyRegistry.forEnvironment(parseApiKeys('acme:acme-secret-1'), 'development');
      expect(configured.tenantOf('demo-key')).toBeUndefined();
      expect(configured.tenantOf('acme-secret-1')).toBe('acme');
    });
  });
});
