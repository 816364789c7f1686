import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKeyStore, createApiKey, generateApiKey, parseApiKey, revokeApiKey } from './api-key-store';
import { AUTH_CODES } from './auth.errors';
import { requireScope, requireTenant } from './principal';

describe(ApiKeyStore, () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-keys-'));
    file = join(dir, 'api-keys.json');
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('authenticate', () => {
    it('returns an api-key principal bound to the key tenant and scopes', () => {
      const { key, record } = createApiKey(file, 'acme', ['events:write']);
      const p = new ApiKeyStore({ file }).authenticate(key);
      expect(p).toMatchObject({
        subject: `apikey:${record.id}`,
        kind: 'api-key',
        roles: ['ingest'],
        tenantId: 'acme',
        credentialId: record.id,
      });
      expect([...p.scopes]).toEqual(['events:write']);
      expect(() => requireScope(p, 'insights:read')).toThrow(
        expect.objectContaining({ code: AUTH_CODES.scopeRequired, metadata: { scope: 'insights:read' } }),
      );
    });

    it('refuses a key used for another tenant via requireTenant', () => {
      const { key } = createApiKey(file, 'acme');
      const p = new ApiKeyStore({ file }).authenticate(key);
      expect(() => requireTenant(p, 'acme')).not.toThrow();
      expect(() => requireTenant(p, 'globex')).toThrow(
        expect.objectContaining({ code: AUTH_CODES.tenantForbidden, kind: 'PERMISSION_DENIED' }),
      );
    });

    it('refuses missing, malformed, unknown and wrong-secret keys', () => {
      const { key } = createApiKey(file, 'acme');
      const store = new ApiKeyStore({ file });
      expect(() => store.authenticate(undefined)).toThrow(
        expect.objectContaining({ code: AUTH_CODES.apiKeyRequired, kind: 'UNAUTHENTICATED' }),
      );
      const other = generateApiKey('acme').key;
      const wrongSecret = `${key.slice(0, 'tsk_'.length + 13)}${other.slice('tsk_'.length + 13)}`;
      for (const bad of ['demo-key', 'tsk_short_x', other, wrongSecret, `${key}x`, key.toUpperCase()]) {
        expect(() => store.authenticate(bad)).toThrow(expect.objectContaining({ code: AUTH_CODES.apiKeyInvalid, kind: 'UNAUTHENTICATED' }));
      }
    });

    it('sees a new key and a revocation without a restart', () => {
      const store = new ApiKeyStore({ file, checkIntervalMs: 0 });
      const { key, record } = createApiKey(file, 'acme');
      expect(store.authenticate(key).tenantId).toBe('acme');
      expect(revokeApiKey(file, record.id)).toBe(true);
      expect(() => store.authenticate(key)).toThrow(expect.objectContaining({ code: AUTH_CODES.apiKeyInvalid }));
      expect(revokeApiKey(file, 'aaaaaaaaaaaa')).toBe(false);
    });

    it('accepts a key created a moment ago at once, but re-checks known keys (revocation) at most once per interval', () => {
      const store = new ApiKeyStore({ file, checkIntervalMs: 60_000 });
      const { key, record } = createApiKey(file, 'acme');
      expect(store.authenticate(key).tenantId).toBe('acme'); // unknown id: the file is re-checked now
      revokeApiKey(file, record.id);
      expect(store.authenticate(key).tenantId).toBe('acme'); // known id: not re-read within the interval
      const fresh = new ApiKeyStore({ file, checkIntervalMs: 60_000 });
      expect(() => fresh.authenticate(key)).toThrow(expect.objectContaining({ code: AUTH_CODES.apiKeyInvalid }));
    });

    it('fails closed when the file is deleted, and keeps the last good keys when it becomes unparsable', () => {
      const errors: Error[] = [];
      const store = new ApiKeyStore({ file, checkIntervalMs: 0, onReloadError: (e) => errors.push(e) });
      const { key } = createApiKey(file, 'acme');
      expect(store.authenticate(key).tenantId).toBe('acme');
      writeFileSync(file, '{"keys": [{"id": 1}]}');
      expect(store.authenticate(key).tenantId).toBe('acme');
      expect(errors[0]?.message).toContain('keys[0].id');
      unlinkSync(file);
      expect(() => store.authenticate(key)).toThrow(expect.objectContaining({ code: AUTH_CODES.apiKeyInvalid }));
      expect(store.size).toBe(0);
    });
  });

  describe('store file', () => {
    it('never contains the plaintext key or its secret', () => {
      const { key } = createApiKey(file, 'acme');
      const text = readFileSync(file, 'utf8');
      expect(text).not.toContain(key);
      expect(text).not.toContain(key.split('_').slice(2).join('_'));
    });

    it('refuses scopes beyond the ingest role and bad tenants', () => {
      expect(() => createApiKey(file, 'acme', ['accounts:write'])).toThrow('may only carry');
      expect(() => createApiKey(file, 'a b')).toThrow('tenant');
      writeFileSync(file, JSON.stringify({ keys: [{ ...generateApiKey('acme').record, scopes: ['accounts:write'] }] }));
      expect(() => new ApiKeyStore({ file })).toThrow('scopes');
    });
  });
});

describe(parseApiKey, () => {
  it('accepts only the tsk_<id>_<secret> format', () => {
    const { key, record } = generateApiKey('acme');
    expect(key).toMatch(/^tsk_[a-z2-7]{12}_[A-Za-z0-9_-]{43}$/);
    expect(parseApiKey(key)).toEqual({ id: record.id });
    expect(parseApiKey('tsk_abc_def')).toBeUndefined();
  });
});
