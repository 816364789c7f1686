/** The dev CA generator against the real openssl CLI: what `npm run infra -- certs` relies on. */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDevPki } from '../src';

const text = (file: string) => execFileSync('openssl', ['x509', '-in', file, '-noout', '-text'], { encoding: 'utf8' });

describe('ensureDevPki', () => {
  const root = mkdtempSync(join(tmpdir(), 'tessera-pki-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('issues CN/SAN/EKU as the services need, keys private, and is idempotent', () => {
    const dir = join(root, 'a');
    const first = ensureDevPki({ dir, identities: ['transactions', 'gateway'] });
    expect(first).toMatchObject({ caCreated: true, issued: ['transactions', 'gateway'], kept: [] });
    const cert = text(join(dir, 'transactions.crt'));
    expect(cert).toMatch(/Subject: O = Tessera Dev, CN = transactions/);
    expect(cert).toMatch(/DNS:transactions, DNS:localhost, IP Address:127.0.0.1/);
    expect(cert).toMatch(/TLS Web Server Authentication, TLS Web Client Authentication/);
    expect(statSync(join(dir, 'transactions.key')).mode & 0o077).toBe(0);
    expect(statSync(join(dir, 'ca.key')).mode & 0o077).toBe(0);

    const before = readFileSync(join(dir, 'gateway.crt'));
    expect(ensureDevPki({ dir, identities: ['transactions', 'gateway'] })).toMatchObject({
      caCreated: false,
      issued: [],
      kept: ['transactions', 'gateway'],
    });
    expect(readFileSync(join(dir, 'gateway.crt'))).toEqual(before);
  });

  it('reissues a leaf that another CA signed, and everything with force', () => {
    const dir = join(root, 'b');
    const other = join(root, 'c');
    ensureDevPki({ dir, identities: ['ingest', 'insights'] });
    ensureDevPki({ dir: other, identities: ['ingest'] });
    copyFileSync(join(other, 'ingest.crt'), join(dir, 'ingest.crt'));
    copyFileSync(join(other, 'ingest.key'), join(dir, 'ingest.key'));
    expect(ensureDevPki({ dir, identities: ['ingest', 'insights'] })).toMatchObject({
      caCreated: false,
      issued: ['ingest'],
      kept: ['insights'],
    });
    const ca = readFileSync(join(dir, 'ca.crt'));
    expect(ensureDevPki({ dir, identities: ['ingest', 'insights'], force: true })).toMatchObject({
      caCreated: true,
      issued: ['ingest', 'insights'],
    });
    expect(readFileSync(join(dir, 'ca.crt'))).not.toEqual(ca);
  });

  it('reissues a leaf that expires within the renewal window', () => {
    const dir = join(root, 'd');
    ensureDevPki({ dir, identities: ['loadgen'], leafDays: 3 });
    expect(ensureDevPki({ dir, identities: ['loadgen'] }).issued).toEqual(['loadgen']); // 3 days left < 7
    expect(ensureDevPki({ dir, identities: ['loadgen'] }).kept).toEqual(['loadgen']); // now 30 days
  });

  it('rejects names that would escape the dir or clash with the CA', () => {
    expect(() => ensureDevPki({ dir: join(root, 'e'), identities: ['../x'] })).toThrow(/invalid certificate name/);
    expect(() => ensureDevPki({ dir: join(root, 'e'), identities: ['ca'] })).toThrow(/invalid certificate name/);
  });
});
