import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metadata } from '@grpc/grpc-js';
import { ApiKeyStore } from './api-key-store';
import { AUTH_CODES } from './auth.errors';
import { bearerToken, CallerAuthenticator } from './caller';
import { DEV_AUDIENCE, DEV_ISSUER, DevIssuer } from './dev-issuer';
import { JwtVerifier } from './jwt-verifier';

describe(CallerAuthenticator, () => {
  let dir: string;
  let issuer: DevIssuer;
  let callers: CallerAuthenticator;
  let demoKey: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-caller-'));
    issuer = await DevIssuer.open(dir);
    const verifier = new JwtVerifier({ issuer: DEV_ISSUER, audience: DEV_AUDIENCE, jwks: { file: issuer.jwksFile } });
    callers = new CallerAuthenticator(verifier, new ApiKeyStore({ file: issuer.apiKeysFile }));
    demoKey = issuer.credentials().apiKeys['demo']!.key;
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const metadata = (entries: Record<string, string>) => {
    const md = new Metadata();
    for (const [k, v] of Object.entries(entries)) md.set(k, v);
    return md;
  };

  describe('authenticate', () => {
    it('prefers the bearer token over an API key', async () => {
      const token = await issuer.mint({ sub: 'officer-1', roles: ['compliance-officer'] });
      const p = await callers.authenticate(metadata({ authorization: `Bearer ${token}`, 'x-api-key': demoKey }));
      expect(p).toMatchObject({ subject: 'officer-1', kind: 'user' });
    });

    it('falls back to the API key', async () => {
      await expect(callers.authenticate(metadata({ 'x-api-key': demoKey }))).resolves.toMatchObject({ kind: 'api-key', tenantId: 'demo' });
    });

    it('refuses an API key where the method does not allow one', async () => {
      await expect(callers.authenticate(metadata({ 'x-api-key': demoKey }), { allowApiKey: false })).rejects.toMatchObject({
        code: AUTH_CODES.credentialsRequired,
      });
    });

    it('refuses a call without credentials, and ignores the old x-tessera-principal header', async () => {
      await expect(callers.authenticate(metadata({ 'x-tessera-principal': 'admin' }))).rejects.toMatchObject({
        code: AUTH_CODES.credentialsRequired,
        kind: 'UNAUTHENTICATED',
      });
    });

    it('does not fall back to the API key when the bearer token is bad', async () => {
      await expect(callers.authenticate(metadata({ authorization: 'Bearer nope', 'x-api-key': demoKey }))).rejects.toMatchObject({
        code: AUTH_CODES.tokenInvalid,
      });
    });
  });
});

describe(bearerToken, () => {
  it('extracts the token, scheme case-insensitive', () => {
    expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerToken('bearer   abc')).toBe('abc');
  });

  it('refuses other schemes and empty values', () => {
    expect(() => bearerToken(undefined)).toThrow(expect.objectContaining({ code: AUTH_CODES.tokenRequired }));
    expect(() => bearerToken('Basic dXNlcjpwYXNz')).toThrow(expect.objectContaining({ code: AUTH_CODES.tokenInvalid }));
    expect(() => bearerToken('Bearer')).toThrow(expect.objectContaining({ code: AUTH_CODES.tokenInvalid }));
    expect(() => bearerToken('Bearer a b')).toThrow(expect.objectContaining({ code: AUTH_CODES.tokenInvalid }));
  });
});
