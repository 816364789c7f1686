import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The rules of the dependency audit gate (scripts/audit.ts), through its CLI with saved `npm audit --json`
 * reports (`--from`), so they are checked without a registry: what blocks, what an exception covers, and that
 * an unavailable audit endpoint is reported as skipped (exit 3), never as passed.
 */
const ROOT = join(__dirname, '../..');
const TSX = join(ROOT, 'node_modules/tsx/dist/cli.mjs');
const NOW = '2026-11-25T00:00:00Z';
const ghsa = (id: string) => `https://github.com/advisories/${id}`;

const REPORT = {
  auditReportVersion: 2,
  vulnerabilities: {
    fastify: {
      name: 'fastify',
      severity: 'high',
      via: [{ source: 1, name: 'fastify', title: 'DoS', url: ghsa('GHSA-aaaa-bbbb-cccc'), severity: 'high' }],
    },
    // Vulnerable only through fastify: its advisory is listed there and must not be counted twice.
    '@nestjs/platform-fastify': { name: '@nestjs/platform-fastify', severity: 'high', via: ['fastify'] },
    debug: {
      name: 'debug',
      severity: 'moderate',
      via: [{ source: 2, name: 'debug', title: 'ReDoS', url: ghsa('GHSA-dddd-eeee-ffff'), severity: 'moderate' }],
    },
  },
};
const EXCEPTION = { id: 'GHSA-aaaa-bbbb-cccc', package: 'fastify', reason: 'route not exposed', reviewBy: '2027-01-31' };

interface Outcome {
  status: 'passed' | 'failed' | 'skipped';
  reason?: string;
  blocking?: { id: string; package: string }[];
  excepted?: { id: string }[];
  expiredExceptions?: { id: string }[];
}

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'tessera-audit-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function audit(report: object, exceptions: object[]): { code: number | null; outcome: Outcome; output: string } {
  writeFileSync(join(dir, 'report.json'), JSON.stringify(report));
  writeFileSync(join(dir, 'exceptions.json'), JSON.stringify({ exceptions }));
  const args = [
    TSX,
    'scripts/audit.ts',
    '--from',
    join(dir, 'report.json'),
    '--exceptions',
    join(dir, 'exceptions.json'),
    '--now',
    NOW,
    '--report',
    join(dir, 'out.json'),
  ];
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
  let outcome: Outcome;
  try {
    outcome = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as Outcome;
  } catch {
    outcome = { status: 'skipped', reason: `no outcome written: ${r.stderr}` };
  }
  rmSync(join(dir, 'out.json'), { force: true });
  return { code: r.status, outcome, output: `${r.stdout}${r.stderr}` };
}

jest.setTimeout(60_000);

describe('scripts/audit.ts', () => {
  it('fails on a high advisory without an exception, once per advisory, ignoring moderate ones', () => {
    const r = audit(REPORT, []);
    expect(r.code).toBe(1);
    expect(r.outcome.blocking?.map((a) => `${a.package} ${a.id}`)).toEqual(['fastify GHSA-aaaa-bbbb-cccc']);
  });

  it('passes when every blocking advisory has a live exception for that package', () => {
    const r = audit(REPORT, [EXCEPTION]);
    expect(r.code).toBe(0);
    expect(r.outcome).toMatchObject({ status: 'passed', excepted: [{ id: 'GHSA-aaaa-bbbb-cccc' }] });
  });

  it('blocks again when the exception expired or names another package', () => {
    expect(audit(REPORT, [{ ...EXCEPTION, reviewBy: '2026-11-01' }])).toMatchObject({
      code: 1,
      outcome: { expiredExceptions: [{ id: 'GHSA-aaaa-bbbb-cccc' }] },
    });
    expect(audit(REPORT, [{ ...EXCEPTION, package: 'pino' }]).code).toBe(1);
  });

  it('rejects an exception without a reason', () => {
    const r = audit(REPORT, [{ ...EXCEPTION, reason: ' ' }]);
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/non-empty reason/);
  });

  it('reports "skipped" (exit 3), never "passed", when the registry does not serve the audit endpoint', () => {
    const r = audit(
      { message: '405 Method Not Allowed - POST https://registry.example/-/npm/v1/security/advisories/bulk', statusCode: 405 },
      [],
    );
    expect(r.code).toBe(3);
    expect(r.outcome).toEqual({ status: 'skipped', reason: expect.stringContaining('405 Method Not Allowed') });
    expect(r.output).toContain('npm audit SKIPPED');
  });

  it('passes a clean report', () => {
    expect(audit({ auditReportVersion: 2, vulnerabilities: {} }, []).code).toBe(0);
  });
});
