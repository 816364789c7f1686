/**
 * `npm run chaos`: runs every chaos scenario (Jest project `chaos`) and writes one markdown report of their results,
 * `.tessera/reports/chaos.md`; `--publish` also copies it to docs/reliability/chaos-report.md (the README links it).
 * Needs the local infrastructure (`npm run infra -- up`) and built services (`npx nx run-many -t build`).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { CHAOS_REPORT_DIR, readScenarioResults, renderReport } from './support/report';

const ROOT = join(__dirname, '..', '..');
const publish = process.argv.includes('--publish');
// --render-only: the scenarios already ran (scripts/test.sh runs them with Jest's JSON report for its summary).
const renderOnly = process.argv.includes('--render-only');
if (!renderOnly) rmSync(CHAOS_REPORT_DIR, { recursive: true, force: true });
if (!renderOnly) console.log('==> chaos scenarios (tests/chaos, real processes, loopback only; a few minutes)');
// Every scenario, the ones `npm test` leaves out included (support/full.ts CHAOS_FULL).
const jest = renderOnly
  ? { status: 0 }
  : spawnSync('npx', ['jest', '-c', 'jest.config.cjs', '--selectProjects', 'chaos', '--ci', '--runInBand'], {
      cwd: ROOT,
      stdio: 'inherit',
      env: { ...process.env, TESSERA_CHAOS_FULL: '1' },
    });
let results: ReturnType<typeof readScenarioResults> = [];
try {
  results = readScenarioResults();
} catch {
  // no scenario got far enough to write a result
}
const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim();
const report = renderReport(results, [
  `Commit ${commit}, ${new Date().toISOString()}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB; \`npm run chaos\` (tests/chaos).`,
  renderOnly
    ? `${results.length} scenario result(s) (rendered after \`npm test\`).`
    : `Jest: ${jest.status === 0 ? 'every scenario passed' : `FAILED (exit ${jest.status})`}; ${results.length} scenario result(s).`,
]);
const out = join(ROOT, '.tessera', 'reports', 'chaos.md');
mkdirSync(join(ROOT, '.tessera', 'reports'), { recursive: true });
writeFileSync(out, report);
console.log(`==> report: ${out}`);
if (publish) {
  const doc = join(ROOT, 'docs', 'reliability', 'chaos-report.md');
  mkdirSync(join(ROOT, 'docs', 'reliability'), { recursive: true });
  copyFileSync(out, doc);
  console.log(`==> published: ${doc}`);
}
process.exit(jest.status ?? 1);
