/**
 * `npm run bench [-- <benchmark>...] [--smoke] [--out <dir>]`: every hot path beside its baseline, in one run
 * on this machine's platform (started when it is not running, left as it was found). Results go to
 * bench/results/<date>-<sha>/ (README.md with the tables, results.json, one SVG per benchmark, machine.json);
 * `--smoke` runs each script for a second or two into .tessera/bench-smoke/ so the scripts cannot rot (npm test).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { treeCpuSeconds } from '../../infra/local/proc';
import { REPO_ROOT } from '../../infra/local/topology';
import { edgeBenchmark } from './edge.bench';
import { freshnessBenchmark } from './freshness.bench';
import { useAdminKafkaEnv } from './harness/kafka-auth';
import { describeMachine } from './harness/machine';
import { BenchPlatform } from './harness/platform';
import { writeReport } from './harness/report';
import { newestPipelineRun, updateReadme } from './ts-or-go';
import { type CaseResources, measureResources } from './harness/resources';
import type { BenchContext, Benchmark, BenchResult } from './harness/types';
import { pipelineBenchmark } from './pipeline.bench';
import { resourcesBenchmark } from './resources.bench';
import { transfersBenchmark } from './transfers.bench';

/** CPU seconds per 2 s window (all components together) below which the platform counts as quiet: 20% of a core. */
const QUIET_CPU_SECONDS = 0.4;
const BENCHMARKS: Benchmark[] = [edgeBenchmark, transfersBenchmark, pipelineBenchmark, freshnessBenchmark, resourcesBenchmark];
const USAGE = `usage: npm run bench -- [${BENCHMARKS.map((b) => b.id).join('|')} ...] [--smoke] [--out <dir>]`;

function parseArgs(argv: string[]): { ids: string[]; smoke: boolean; out?: string } {
  const ids: string[] = [];
  let smoke = false;
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--smoke') smoke = true;
    else if (a === '--out') out = argv[++i];
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (BENCHMARKS.some((b) => b.id === a)) ids.push(a);
    else {
      console.error(`unknown argument ${a}\n${USAGE}`);
      process.exit(2);
    }
  }
  return { ids, smoke, out };
}

/** `<date>-<sha>`, or `-2`, `-3`, ... when a run of the same day and commit is there: a second run never replaces a first. */
function freshResultsDir(base: string): string {
  let dir = base;
  for (let n = 2; existsSync(dir); n++) dir = `${base}-${n}`;
  return dir;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const log = (line: string) => console.log(`[bench ${String(Math.round((Date.now() - t0) / 1000)).padStart(4)}s] ${line}`);
  const machine = describeMachine();
  const outDir =
    args.out ??
    (args.smoke
      ? join(REPO_ROOT, '.tessera', 'bench-smoke', `${machine.date.slice(0, 10)}-${machine.gitSha}`)
      : freshResultsDir(join(REPO_ROOT, 'bench', 'results', `${machine.date.slice(0, 10)}-${machine.gitSha}`)));
  const profileDir = join(REPO_ROOT, '.tessera', 'bench', 'profiles', machine.date.replace(/[:.]/g, '-'));
  mkdirSync(outDir, { recursive: true });
  mkdirSync(profileDir, { recursive: true });
  const selected = args.ids.length > 0 ? BENCHMARKS.filter((b) => args.ids.includes(b.id)) : BENCHMARKS;
  log(`${selected.map((b) => b.id).join(', ')}${args.smoke ? ' (smoke)' : ''} -> ${relative(REPO_ROOT, outDir)}`);

  const platform = new BenchPlatform(log);
  // The brokers require TLS + SASL/SCRAM (issue #13): the bench's kafkajs clients and the children that inherit its env
  // connect as tessera-admin, set before anything connects; services it starts still get their own principals (serviceEnv).
  useAdminKafkaEnv(platform.topo);
  const cases: CaseResources[] = [];
  const ctx: BenchContext = {
    smoke: args.smoke,
    platform,
    outDir,
    profileDir,
    log,
    cases,
    seconds: (full) => (args.smoke ? Math.min(full, 1) : full),
    async quiesce(maxSeconds = args.smoke ? 4 : 30) {
      const components = await platform.components();
      const deadline = Date.now() + maxSeconds * 1000;
      let busy: string[] = [];
      do {
        const before = components.map((c) => treeCpuSeconds(c.pid));
        await new Promise((r) => setTimeout(r, 2000));
        const used = components.map((c, i) => ({ name: c.name, cpu: treeCpuSeconds(c.pid) - (before[i] ?? 0) }));
        if (used.reduce((a, u) => a + u.cpu, 0) < QUIET_CPU_SECONDS) return undefined;
        busy = used
          .filter((u) => u.cpu >= 0.1)
          .sort((a, b) => b.cpu - a.cpu)
          .map((u) => `${u.name} ${Math.round((u.cpu / 2) * 100)}%`);
        log(`waiting for the platform to go quiet: ${busy.join(', ')}`);
      } while (Date.now() < deadline);
      return `The platform was not quiet after ${maxSeconds} s (${busy.join(', ')} of a core): the next case shares the CPU with it.`;
    },
    async measure(label, fn, extra = []) {
      const components = [...(await platform.components()), ...extra];
      const r = await measureResources(label, components, fn);
      cases.push(r.resources);
      return r;
    },
  };
  const results: BenchResult[] = [];
  const failures: { id: string; error: string }[] = [];
  try {
    await platform.up();
    for (const b of selected) {
      log(`== ${b.title}`);
      try {
        await ctx.quiesce();
        results.push(await b.run(ctx));
      } catch (err) {
        const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
        log(`${b.id} FAILED: ${error}`);
        failures.push({ id: b.id, error: error.split('\n')[0] ?? error });
      }
    }
  } finally {
    await platform.restore().catch((err: unknown) => log(`restoring the platform failed: ${String(err)}`));
  }
  writeReport(outDir, {
    machine,
    smoke: args.smoke,
    command: `npm run bench --${args.smoke ? ' --smoke' : ''}${args.ids.length ? ` ${args.ids.join(' ')}` : ''}`,
    results,
    failures,
    seconds: (Date.now() - t0) / 1000,
  });
  log(`report: ${relative(REPO_ROOT, join(outDir, 'README.md'))}`);
  // The README's "TypeScript or Go" section follows the newest full pipeline and freshness runs (issue #15).
  if (!args.smoke && !args.out && results.some((r) => r.id === 'pipeline' || r.id === 'freshness')) {
    try {
      updateReadme(results.some((r) => r.id === 'pipeline') ? outDir : newestPipelineRun());
      log('README.md: "TypeScript or Go for the aggregate stage" updated from this run');
    } catch (err) {
      log(`README.md section not updated: ${String(err)}`);
    }
  }
  for (const r of results)
    log(
      `${r.id}: ${
        Object.entries(r.ratios)
          .map(([k, v]) => `${k} = ${v}`)
          .join('; ') || 'done'
      }`,
    );
  if (failures.length > 0) {
    log(`${failures.length} benchmark(s) failed: ${failures.map((f) => f.id).join(', ')}`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
