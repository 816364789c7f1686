import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * .env.example cannot drift from the config schemas: scripts/env-example.ts derives every variable the services
 * read (zod schemas, auth, mTLS, telemetry, the Go processor) and checks the file. Run as a process because the
 * script imports service code, which this e2e-scoped project may not.
 */
const ROOT = join(__dirname, '../..');
const TSX = join(ROOT, 'node_modules/tsx/dist/cli.mjs');
const ORIGINAL = readFileSync(join(ROOT, '.env.example'), 'utf8');

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'tessera-env-example-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function checkFile(text?: string): { code: number | null; output: string } {
  const args = ['--conditions=@tessera/source', TSX, 'scripts/env-example.ts'];
  if (text !== undefined) {
    writeFileSync(join(dir, 'env'), text);
    args.push('--file', join(dir, 'env'));
  }
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

jest.setTimeout(60_000);

describe('.env.example', () => {
  it('documents every variable the services read, with their defaults', () => {
    const r = checkFile();
    expect(r.output).toContain('documents every variable');
    expect(r.code).toBe(0);
  });

  it('is flagged when a config key is missing, stale, in the wrong section or shows a wrong default', () => {
    const broken = ORIGINAL.replace('# INGEST_MAX_ATTRIBUTES=32\n', '')
      .replace('# GATEWAY_BODY_LIMIT_BYTES=262144', '# GATEWAY_BODY_LIMIT_BYTES=1')
      .replace('# INSIGHTS_STREAM_BUFFER=1024\n', '')
      .concat('# INGEST_API_KEYS=\n# INSIGHTS_STREAM_BUFFER=1024\n');
    const r = checkFile(broken);
    expect(r.code).toBe(1);
    expect(r.output).toContain('INGEST_MAX_ATTRIBUTES is missing');
    expect(r.output).toContain('GATEWAY_BODY_LIMIT_BYTES');
    expect(r.output).toContain('INGEST_API_KEYS');
    expect(r.output).toMatch(/INSIGHTS_STREAM_BUFFER .* belongs under ## \[insights\]/);
  });

  it('refuses a value for a [secret] variable', () => {
    const r = checkFile(
      ORIGINAL.replace(
        'postgresql://tessera:<password>@127.0.0.1:55432/tessera_insights',
        'postgresql://tessera:hunter2@db/tessera_insights',
      ),
    );
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/INSIGHTS_DATABASE_URL .* is \[secret\]/);
  });
});
