import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUTH_CODES, DEV_AUDIENCE, DEV_ISSUER, DevIssuer, JwtVerifier } from '../src';

/** A JWKS served over a real HTTP socket, as an OIDC provider's jwks_uri would be. */
describe('JwtVerifier with a remote JWKS', () => {
  let dir: string;
  let issuer: DevIssuer;
  let server: Server;
  let url: string;
  let fetches = 0;
  let failing = false;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-remote-jwks-'));
    issuer = await DevIssuer.open(dir);
    server = createServer((req, res) => {
      fetches++;
      if (failing || req.url !== '/.well-known/jwks.json') {
        res.writeHead(failing ? 500 : 404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(readFileSync(issuer.jwksFile));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  const verifier = (cooldownMs = 0) => new JwtVerifier({ issuer: DEV_ISSUER, audience: DEV_AUDIENCE, jwks: { url, cooldownMs } });

  it('verifies tokens and follows a rotation by refetching on the unknown kid', async () => {
    const v = verifier();
    const old = await issuer.mint({ sub: 'alice', roles: ['customer'] });
    await expect(v.verify(old)).resolves.toMatchObject({ subject: 'alice' });
    const before = fetches;
    await issuer.rotate();
    const fresh = await issuer.mint({ sub: 'alice', roles: ['customer'] });
    await expect(v.verify(fresh)).resolves.toMatchObject({ subject: 'alice' });
    expect(fetches).toBeGreaterThan(before);
    await expect(v.verify(old)).resolves.toMatchObject({ subject: 'alice' });
  });

  it('reports an unknown kid as UNKNOWN_KEY once the refetched set still lacks it', async () => {
    const stranger = mkdtempSync(join(tmpdir(), 'tessera-stranger-'));
    try {
      const other = await DevIssuer.open(stranger);
      await expect(verifier().verify(await other.mint({ sub: 'mallory', roles: ['operator'] }))).rejects.toMatchObject({
        code: AUTH_CODES.unknownKey,
      });
    } finally {
      rmSync(stranger, { recursive: true, force: true });
    }
  });

  it('reports an unreachable JWKS as unavailable (503), not as a bad token', async () => {
    failing = true;
    try {
      const token = await issuer.mint({ sub: 'alice', roles: ['customer'] });
      await expect(verifier().verify(token)).rejects.toMatchObject({ code: AUTH_CODES.jwksUnavailable, kind: 'UNAVAILABLE' });
    } finally {
      failing = false;
    }
  });
});
