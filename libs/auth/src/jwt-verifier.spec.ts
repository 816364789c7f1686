import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { AUTH_CODES } from './auth.errors';
import { DEV_AUDIENCE, DEV_ISSUER, DevIssuer } from './dev-issuer';
import { JwtVerifier } from './jwt-verifier';

const now = () => Math.floor(Date.now() / 1000);

describe(JwtVerifier, () => {
  let dir: string;
  let issuer: DevIssuer;
  let verifier: JwtVerifier;

  const verifierFor = (opts: Partial<ConstructorParameters<typeof JwtVerifier>[0]> = {}) =>
    new JwtVerifier({ issuer: DEV_ISSUER, audience: DEV_AUDIENCE, jwks: { file: issuer.jwksFile }, ...opts });

  /** Signs with the issuer's current private key, for claims DevIssuer.mint would never produce. */
  async function signRaw(claims: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
    const keys = JSON.parse(readFileSync(join(dir, 'issuer-keys.json'), 'utf8')) as {
      current: string;
      keys: { kid: string; privateJwk: JWK }[];
    };
    const current = keys.keys.find((k) => k.kid === keys.current)!;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: current.kid, ...header })
      .sign(await importJWK(current.privateJwk, 'ES256'));
  }

  const base = () => ({ sub: 'alice', iss: DEV_ISSUER, aud: DEV_AUDIENCE, iat: now(), exp: now() + 600, roles: ['customer'] });

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-auth-'));
    issuer = await DevIssuer.open(dir);
    verifier = verifierFor();
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('verify', () => {
    it('turns a valid token into a principal', async () => {
      const token = await issuer.mint({ sub: 'u-1', roles: ['operator'], tenant: 'demo' });
      const p = await verifier.verify(token);
      expect(p).toMatchObject({ subject: 'u-1', kind: 'user', roles: ['operator'], tenantId: 'demo' });
      expect(p.credentialId).toMatch(/^[0-9a-f-]{36}$/);
      expect(p.customerId).toBeUndefined();
      expect(p.scopes.has('holds:write')).toBe(true);
    });

    it('refuses a missing token', async () => {
      await expect(verifier.verify(undefined)).rejects.toMatchObject({ code: AUTH_CODES.tokenRequired, kind: 'UNAUTHENTICATED' });
      await expect(verifier.verify(' ')).rejects.toMatchObject({ code: AUTH_CODES.tokenRequired });
    });

    it('refuses an expired token', async () => {
      const token = await issuer.mint({ sub: 'alice', roles: ['customer'], issuedAt: now() - 3600, ttlSec: 600 });
      await expect(verifier.verify(token)).rejects.toMatchObject({ code: AUTH_CODES.tokenExpired, kind: 'UNAUTHENTICATED' });
    });

    it('refuses a token that is not valid yet', async () => {
      const token = await issuer.mint({ sub: 'alice', roles: ['customer'], notBefore: now() + 600 });
      await expect(verifier.verify(token)).rejects.toMatchObject({ code: AUTH_CODES.tokenNotYetValid });
    });

    it('refuses a token issued in the future', async () => {
      const token = await issuer.mint({ sub: 'alice', roles: ['customer'], issuedAt: now() + 600 });
      await expect(verifier.verify(token)).rejects.toMatchObject({ code: AUTH_CODES.tokenNotYetValid });
    });

    it('accepts clock skew within the tolerance and refuses it beyond', async () => {
      const justExpired = await issuer.mint({ sub: 'alice', roles: ['customer'], issuedAt: now() - 610, ttlSec: 600 });
      const almostValid = await issuer.mint({ sub: 'alice', roles: ['customer'], notBefore: now() + 10 });
      await expect(verifier.verify(justExpired)).resolves.toMatchObject({ subject: 'alice' });
      await expect(verifier.verify(almostValid)).resolves.toMatchObject({ subject: 'alice' });
      const strict = verifierFor({ clockToleranceSec: 0 });
      await expect(strict.verify(justExpired)).rejects.toMatchObject({ code: AUTH_CODES.tokenExpired });
      await expect(strict.verify(almostValid)).rejects.toMatchObject({ code: AUTH_CODES.tokenNotYetValid });
    });

    it('refuses a wrong audience and a wrong issuer', async () => {
      const wrongAud = await issuer.mint({ sub: 'alice', roles: ['customer'], audience: 'another-api' });
      const wrongIss = await issuer.mint({ sub: 'alice', roles: ['customer'], issuer: 'https://evil.example' });
      await expect(verifier.verify(wrongAud)).rejects.toMatchObject({
        code: AUTH_CODES.tokenInvalid,
        message: expect.stringContaining('audience'),
      });
      await expect(verifier.verify(wrongIss)).rejects.toMatchObject({
        code: AUTH_CODES.tokenInvalid,
        message: expect.stringContaining('issuer'),
      });
    });

    it('refuses alg none', async () => {
      const enc = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const token = `${enc({ alg: 'none', typ: 'JWT', kid: issuer.currentKid })}.${enc(base())}.`;
      await expect(verifier.verify(token)).rejects.toMatchObject({
        code: AUTH_CODES.tokenInvalid,
        message: expect.stringContaining('algorithm'),
      });
    });

    it('refuses an HS256 token keyed with the public key (algorithm confusion)', async () => {
      const jwks = JSON.parse(readFileSync(issuer.jwksFile, 'utf8')) as { keys: JWK[] };
      const pem = createPublicKey({ key: jwks.keys[0] as import('node:crypto').JsonWebKey, format: 'jwk' }).export({
        type: 'spki',
        format: 'pem',
      });
      for (const secret of [Buffer.from(pem), Buffer.from(JSON.stringify(jwks.keys[0]))]) {
        const token = await new SignJWT(base()).setProtectedHeader({ alg: 'HS256', kid: issuer.currentKid }).sign(secret);
        await expect(verifier.verify(token)).rejects.toMatchObject({ code: AUTH_CODES.tokenInvalid });
      }
    });

    it('refuses a signature by another key that claims the same kid', async () => {
      const { privateKey } = await generateKeyPair('ES256');
      const token = await new SignJWT(base()).setProtectedHeader({ alg: 'ES256', kid: issuer.currentKid }).sign(privateKey);
      await expect(verifier.verify(token)).rejects.toMatchObject({
        code: AUTH_CODES.tokenInvalid,
        message: expect.stringContaining('signature'),
      });
    });

    it('refuses a kid that is not in the JWKS', async () => {
      const { privateKey } = await generateKeyPair('ES256');
      const token = await new SignJWT(base()).setProtectedHeader({ alg: 'ES256', kid: 'someone-elses-key' }).sign(privateKey);
      await expect(verifier.verify(token)).rejects.toMatchObject({ code: AUTH_CODES.unknownKey, kind: 'UNAUTHENTICATED' });
    });

    it('refuses a tampered payload', async () => {
      const [h, , s] = (await issuer.mint({ sub: 'alice', roles: ['customer'] })).split('.');
      const payload = Buffer.from(JSON.stringify({ ...base(), roles: ['operator'] })).toString('base64url');
      await expect(verifier.verify(`${h}.${payload}.${s}`)).rejects.toMatchObject({ code: AUTH_CODES.tokenInvalid });
    });

    it('refuses malformed tokens', async () => {
      for (const token of ['abc', 'a.b.c', 'eyJhbGciOiJFUzI1NiJ9..', `${'x'.repeat(20)}.${'y'.repeat(20)}`]) {
        await expect(verifier.verify(token)).rejects.toMatchObject({ code: AUTH_CODES.tokenInvalid });
      }
    });

    it('requires kid, exp and sub', async () => {
      const { exp: _exp, ...noExp } = base();
      const { sub: _sub, ...noSub } = base();
      await expect(verifier.verify(await signRaw(base(), { kid: undefined }))).rejects.toMatchObject({
        code: AUTH_CODES.tokenInvalid,
        message: expect.stringContaining('kid'),
      });
      await expect(verifier.verify(await signRaw(noExp))).rejects.toMatchObject({
        code: AUTH_CODES.tokenInvalid,
        message: expect.stringContaining('exp'),
      });
      await expect(verifier.verify(await signRaw(noSub))).rejects.toMatchObject({
        code: AUTH_CODES.tokenInvalid,
        message: expect.stringContaining('sub'),
      });
    });

    it('refuses a sub posing as an API key and claims of the wrong type', async () => {
      await expect(verifier.verify(await signRaw({ ...base(), sub: 'apikey:abc' }))).rejects.toMatchObject({
        code: AUTH_CODES.tokenInvalid,
      });
      await expect(verifier.verify(await signRaw({ ...base(), roles: 'operator' }))).rejects.toMatchObject({
        code: AUTH_CODES.tokenInvalid,
      });
      await expect(verifier.verify(await signRaw({ ...base(), tenant: 42 }))).rejects.toMatchObject({ code: AUTH_CODES.tokenInvalid });
    });

    it('refuses tokens living longer than maxTtlSec', async () => {
      const long = await issuer.mint({ sub: 'alice', roles: ['customer'], ttlSec: 7200 });
      await expect(verifierFor({ maxTtlSec: 3600 }).verify(long)).rejects.toMatchObject({ code: AUTH_CODES.tokenInvalid });
      await expect(verifierFor({ maxTtlSec: 7200 }).verify(long)).resolves.toMatchObject({ subject: 'alice' });
    });

    it('accepts RS256 tokens too', async () => {
      const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      writeFileSync(issuer.jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'rsa-1', alg: 'RS256' }] }));
      const token = await new SignJWT(base()).setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' }).sign(privateKey);
      await expect(verifierFor({ jwks: { file: issuer.jwksFile, checkIntervalMs: 0 } }).verify(token)).resolves.toMatchObject({
        subject: 'alice',
      });
    });
  });

  describe('principal', () => {
    it('ignores unknown roles and narrows scopes to the scope claim', async () => {
      const p = await verifier.verify(await issuer.mint({ sub: 'o', roles: ['operator'], scope: 'accounts:read alerts:decide' }));
      expect([...p.scopes]).toEqual(['accounts:read']);
      const q = await verifier.verify(await signRaw({ ...base(), roles: ['operator', 'superuser'] }));
      expect(q.roles).toEqual(['operator']);
    });

    it('binds a pure customer to customer_id, falling back to sub', async () => {
      expect((await verifier.verify(await issuer.mint({ sub: 'alice', roles: ['customer'], customerId: 'cust-9' }))).customerId).toBe(
        'cust-9',
      );
      expect((await verifier.verify(await issuer.mint({ sub: 'alice', roles: ['customer'] }))).customerId).toBe('alice');
    });

    it('does not restrict a customer who also holds a staff role', async () => {
      const p = await verifier.verify(await issuer.mint({ sub: 'bob', roles: ['customer', 'auditor'], customerId: 'cust-1' }));
      expect(p.customerId).toBeUndefined();
      expect(p.scopes.has('audit:read')).toBe(true);
    });
  });

  describe('verified tokens', () => {
    it('answers the same token again without checking its signature again', async () => {
      const token = await issuer.mint({ sub: 'u-2', roles: ['operator'] });
      const first = await verifier.verify(token);
      const again = await verifier.verify(token);
      expect(again).toEqual(first);
      expect(verifier.stats).toEqual({ signatureChecks: 1, cacheHits: 1 });
    });

    it('never remembers a refusal', async () => {
      const [h, , sig] = (await issuer.mint({ sub: 'alice', roles: ['customer'] })).split('.');
      const forged = [h, Buffer.from(JSON.stringify({ ...base(), roles: ['admin'] })).toString('base64url'), sig].join('.');
      for (let i = 0; i < 2; i++) await expect(verifier.verify(forged)).rejects.toMatchObject({ code: AUTH_CODES.tokenInvalid });
      expect(verifier.stats).toEqual({ signatureChecks: 2, cacheHits: 0 });
    });

    it('refuses a remembered token once it has expired', async () => {
      jest.useFakeTimers({ now: Date.now(), doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
      try {
        const token = await issuer.mint({ sub: 'alice', roles: ['customer'], ttlSec: 5 });
        await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'alice' });
        jest.setSystemTime(Date.now() + 40_000); // past exp + the 30 s tolerance, inside the cache's 60 s
        await expect(verifier.verify(token)).rejects.toMatchObject({ code: AUTH_CODES.tokenExpired });
        expect(verifier.stats.cacheHits).toBe(0);
      } finally {
        jest.useRealTimers();
      }
    });

    it('checks the signature again when the key set no longer gives the same key for the kid', async () => {
      const v = verifierFor({ jwks: { file: issuer.jwksFile, checkIntervalMs: 0 } });
      const token = await issuer.mint({ sub: 'alice', roles: ['customer'] });
      await v.verify(token);
      // The same keys written again: a reload, new key objects, so the remembered verification no longer counts.
      writeFileSync(issuer.jwksFile, readFileSync(issuer.jwksFile, 'utf8'));
      await expect(v.verify(token)).resolves.toMatchObject({ subject: 'alice' });
      expect(v.stats.signatureChecks).toBe(2);
    });
  });

  describe('key rotation', () => {
    it('verifies tokens of the previous key after rotate, and UNKNOWN_KEY once it is dropped', async () => {
      const old = await issuer.mint({ sub: 'alice', roles: ['customer'] });
      await expect(verifier.verify(old)).resolves.toBeDefined();
      await issuer.rotate();
      const fresh = await issuer.mint({ sub: 'alice', roles: ['customer'] });
      // The verifier has cached the old JWKS; the unknown kid makes it re-read the file at once.
      await expect(verifier.verify(fresh)).resolves.toMatchObject({ subject: 'alice' });
      await expect(verifier.verify(old)).resolves.toMatchObject({ subject: 'alice' });
      await issuer.rotate();
      await expect(verifier.verify(await issuer.mint({ sub: 'alice', roles: ['customer'] }))).resolves.toBeDefined();
      await expect(verifier.verify(fresh)).resolves.toBeDefined();
      await expect(verifier.verify(old)).rejects.toMatchObject({ code: AUTH_CODES.unknownKey });
    });

    it('picks up a JWKS file edited on disk (key removed) after the check interval', async () => {
      const v = verifierFor({ jwks: { file: issuer.jwksFile, checkIntervalMs: 0 } });
      const token = await issuer.mint({ sub: 'alice', roles: ['customer'] });
      await expect(v.verify(token)).resolves.toBeDefined();
      writeFileSync(issuer.jwksFile, JSON.stringify({ keys: [] }));
      await expect(v.verify(token)).rejects.toMatchObject({ code: AUTH_CODES.unknownKey });
    });

    it('keeps the last good keys when the file becomes invalid, and refuses private keys in it', async () => {
      const v = verifierFor({ jwks: { file: issuer.jwksFile, checkIntervalMs: 0 } });
      const token = await issuer.mint({ sub: 'alice', roles: ['customer'] });
      await v.verify(token);
      writeFileSync(issuer.jwksFile, '{ not json');
      await expect(v.verify(token)).resolves.toBeDefined();
      const leaked = JSON.parse(readFileSync(join(dir, 'issuer-keys.json'), 'utf8')) as { keys: { privateJwk: JWK }[] };
      writeFileSync(issuer.jwksFile, JSON.stringify({ keys: [leaked.keys[0]!.privateJwk] }));
      await expect(verifierFor().verify(token)).rejects.toMatchObject({ code: AUTH_CODES.jwksUnavailable, kind: 'UNAVAILABLE' });
    });

    it('reports a missing JWKS file as unavailable, telling the operator what to run', async () => {
      const v = verifierFor({ jwks: { file: join(dir, 'nope.json') } });
      const err = (await v.verify(await issuer.mint({ sub: 'alice', roles: ['customer'] })).then(
        () => new Error('expected a rejection'),
        (e: unknown) => e as Error,
      )) as Error & { code?: string };
      expect(err).toMatchObject({ code: AUTH_CODES.jwksUnavailable, kind: 'UNAVAILABLE' });
      expect(String((err.cause as Error).message)).toContain('npm run auth -- init');
      expect(err.message).not.toContain(dir);
    });
  });
});
