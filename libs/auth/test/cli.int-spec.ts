import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ApiKeyStore, AUTH_CODES, DEV_AUDIENCE, DEV_ISSUER, JwtVerifier } from '../src';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..', '..');

/** The real CLI as `npm run auth` runs it (tsx), in a temporary directory. */
async function auth(dir: string, ...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run('npx', ['tsx', 'libs/auth/src/cli.ts', ...args, '--dir', dir], {
      cwd: ROOT,
      env: { ...process.env, TESSERA_AUTH_ISSUER: '', TESSERA_AUTH_AUDIENCE: '' },
    });
    return { stdout: stdout.trim(), stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout.trim(), stderr: e.stderr, code: e.code };
  }
}

describe('npm run auth', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('init creates the files, secrets at 0600 and what services read at 0644, and is idempotent', async () => {
    const first = await auth(dir, 'init');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('created');
    const jwks = readFileSync(join(dir, 'jwks.json'), 'utf8');
    for (const f of ['issuer-keys.json', 'dev-credentials.json']) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
    // Services in containers run as another user and read these two (public key / digests only).
    for (const f of ['jwks.json', 'api-keys.json']) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o644);
    expect(statSync(dir).mode & 0o777).toBe(0o755);
    const again = await auth(dir, 'init');
    expect(again.stdout).toContain('already initialised');
    expect(readFileSync(join(dir, 'jwks.json'), 'utf8')).toBe(jwks);
  }, 60_000);

  it('token prints a JWT the verifier accepts, and rejects unknown roles', async () => {
    const { stdout, code } = await auth(
      dir,
      'token',
      '--sub',
      'cust-1',
      '--role',
      'customer',
      '--customer',
      'owner-7',
      '--ttl',
      '5m',
      '--scope',
      'accounts:read',
    );
    expect(code).toBe(0);
    const v = new JwtVerifier({ issuer: DEV_ISSUER, audience: DEV_AUDIENCE, jwks: { file: join(dir, 'jwks.json') }, maxTtlSec: 300 });
    const p = await v.verify(stdout);
    expect(p).toMatchObject({ subject: 'cust-1', customerId: 'owner-7' });
    expect([...p.scopes]).toEqual(['accounts:read']);
    const bad = await auth(dir, 'token', '--sub', 'x', '--role', 'root');
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain('unknown role root');
  }, 60_000);

  it('rotate keeps tokens of the previous key verifying', async () => {
    const v = new JwtVerifier({ issuer: DEV_ISSUER, audience: DEV_AUDIENCE, jwks: { file: join(dir, 'jwks.json') } });
    const before = (await auth(dir, 'token', '--sub', 'op', '--role', 'operator')).stdout;
    expect((await auth(dir, 'rotate')).stdout).toContain('new signing key');
    const after = (await auth(dir, 'token', '--sub', 'op', '--role', 'operator')).stdout;
    await expect(v.verify(before)).resolves.toMatchObject({ subject: 'op' });
    await expect(v.verify(after)).resolves.toMatchObject({ subject: 'op' });
  }, 60_000);

  it('apikey create / list / revoke, picked up by a running store without restart', async () => {
    const store = new ApiKeyStore({ file: join(dir, 'api-keys.json'), checkIntervalMs: 0 });
    const created = await auth(dir, 'apikey', 'create', '--tenant', 'acme', '--scopes', 'events:write');
    expect(created.code).toBe(0);
    const key = created.stdout;
    const p = store.authenticate(key);
    expect(p).toMatchObject({ tenantId: 'acme' });
    expect(readFileSync(join(dir, 'api-keys.json'), 'utf8')).not.toContain(key);
    const listed = await auth(dir, 'apikey', 'list');
    expect(listed.stdout).toContain(`${p.credentialId}\tacme\tevents:write`);
    expect(listed.stdout).not.toContain(key);
    expect((await auth(dir, 'apikey', 'revoke', p.credentialId!)).code).toBe(0);
    expect(() => store.authenticate(key)).toThrow(expect.objectContaining({ code: AUTH_CODES.apiKeyInvalid }));
    expect((await auth(dir, 'apikey', 'revoke', 'aaaaaaaaaaaa')).code).toBe(64);
    expect((await auth(dir, 'apikey', 'create', '--tenant', 'acme', '--scopes', 'accounts:write')).code).toBe(64);
  }, 120_000);
});
