import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devApiKeys, devCredentialsFile } from './dev-credentials';

describe('devApiKeys', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'loadgen-creds-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('maps each demo tenant to its key from dev-credentials.json', () => {
    const file = join(dir, 'dev-credentials.json');
    writeFileSync(
      file,
      JSON.stringify({
        issuer: 'i',
        audience: 'a',
        apiKeys: { demo: { keyId: 'K1', key: 'tsk_K1_x' }, payments: { keyId: 'K2', key: 'tsk_K2_y' } },
      }),
    );
    const keys = devApiKeys(file);
    expect(keys.for('demo')).toBe('tsk_K1_x');
    expect(keys.for('payments')).toBe('tsk_K2_y');
    expect(keys.for('acme')).toBeUndefined();
  });

  it('names the file and the command that creates it when it is missing', () => {
    expect(() => devApiKeys(join(dir, 'nope.json'))).toThrow(/nope\.json not found; run `npm run auth -- init`/);
  });

  it('looks in TESSERA_AUTH_DIR when set', () => {
    expect(devCredentialsFile({ TESSERA_AUTH_DIR: dir })).toBe(join(dir, 'dev-credentials.json'));
  });
});
