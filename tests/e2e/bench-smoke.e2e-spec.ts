import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './support/platform';

/**
 * `npm run bench -- --smoke`: every benchmark script runs end to end for a second or two against the real
 * platform (started by the bench on the topology's ports and stopped again), so the scripts cannot rot. It
 * asserts that every benchmark produced a table and numbers, never how fast anything was (targets live in the
 * bench, not in tests).
 */
interface Report {
  smoke: boolean;
  failures: { id: string; error: string }[];
  results: { id: string; table: { rows: unknown[][] }; chart: { bars: { value: number }[] }; ratios: Record<string, number> }[];
}

jest.setTimeout(900_000);

describe('bench (smoke mode)', () => {
  it('runs every benchmark beside its baseline and writes the report', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tessera-bench-smoke-'));
    const lines: string[] = [];
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'bench/src/cli.ts', '--smoke', '--out', out], {
        cwd: ROOT,
        env: { ...process.env, LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.on('data', (b: Buffer) => lines.push(b.toString()));
      child.stderr.on('data', (b: Buffer) => lines.push(b.toString()));
      child.on('exit', resolve);
    });
    if (code !== 0) throw new Error(`bench --smoke exited ${code}:\n${lines.join('').slice(-6000)}`);

    const report = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Report;
    expect(report.smoke).toBe(true);
    expect(report.failures).toEqual([]);
    expect(report.results.map((r) => r.id)).toEqual(['edge', 'transfers', 'pipeline', 'freshness', 'resources']);
    for (const r of report.results) {
      expect(r.table.rows.length).toBeGreaterThan(0);
      expect(r.chart.bars.length).toBeGreaterThan(0);
      // Every ratio is a number and at least one bar measured something (a second of smoke load may see a
      // case refused, which the table shows; a benchmark that measured nothing at all fails here).
      expect(r.chart.bars.some((bar) => bar.value > 0)).toBe(true);
      expect(Object.keys(r.ratios).length).toBeGreaterThan(0);
      for (const v of Object.values(r.ratios)) expect(Number.isFinite(v) && v >= 0).toBe(true);
      expect(readFileSync(join(out, `${r.id}.svg`), 'utf8')).toMatch(/^<svg /);
    }
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toContain('SMOKE');
  });
});
