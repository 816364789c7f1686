import { Client } from 'pg';
import { profileService } from './harness/profile';
import type { CaseResources } from './harness/resources';
import { ratio, round, sandwich } from './harness/stats';
import type { Benchmark, BenchContext } from './harness/types';
import { type CaseLoad, type CaseName, CLIENTS, runCase } from './transfers/load';
import { MAX_BATCH_SIZE, PER_OWNER, openPopulation, type Population, type SliceName } from './transfers/population';
import { type PgbenchResult, pgbenchArgs, pgbenchConn, preparePgbench, startPgbench } from './transfers/pgbench';

/**
 * Transfers through the gateway (single, batch, one hot account) beside pgbench's TPC-B-like script on the
 * same PostgreSQL cluster with the same client count, as a sandwich: pgbench, Tessera, pgbench.
 */
/** Every process a transfer costs CPU in: the request path, then the broker and the consumers it feeds, and tracing. */
const SERVICES = ['gateway', 'transactions', 'compliance', 'postgres', 'kafka-1', 'stream-processor', 'insights', 'zipkin'] as const;
const BATCH_SIZE = Math.min(MAX_BATCH_SIZE, 50);
/** Expected transfers/s per case, only to size each case's wallet slice for the velocity rules (see population.ts). */
/**
 * Transfers/s each case is sized for: its slice holds EXPECTED_TPS x (warm-up + measured seconds) / PER_OWNER wallets,
 * so no wallet passes compliance's velocity limits in one case. The batch slice is also at least CLIENTS x batch size,
 * so the batches in flight at one time debit distinct owners (consecutive chunks of one shuffled order) and do not
 * queue on each other's per-owner screening locks.
 */
const EXPECTED_TPS: Record<SliceName, number> = { single: 300, batch: 600, hot: 300, profile: 40 };
// Single and hot were sized for 80/s; at 133/s (2026-12-04) 40% of their transfers were held for review (PENDING),
// so the cases measured compliance's review path (alerts, holds) instead of the approved one the targets are about.
// 300/s is the hot target; a case faster than its size still runs, and the report says so (velocityNotes).

interface TesseraCase {
  name: CaseName;
  label: string;
  run: CaseLoad;
  resources: CaseResources;
  waits: string;
}

async function sampleWaits(ctx: BenchContext): Promise<string> {
  const db = new Client({ connectionString: ctx.platform.databaseUrl('postgres') });
  try {
    await db.connect();
    const r = await db.query<{ datname: string; wait_event_type: string | null; wait_event: string | null; n: number }>(
      `select datname, wait_event_type, wait_event, count(*)::int as n from pg_stat_activity
       where datname in ('tessera_transactions', 'tessera_compliance') and state <> 'idle' group by 1, 2, 3 order by 1, 4 desc`,
    );
    return (
      r.rows.map((w) => `${w.datname.replace('tessera_', '')}: ${w.wait_event_type ?? 'CPU'}/${w.wait_event ?? '-'} ×${w.n}`).join(', ') ||
      '(no active backends)'
    );
  } catch (err) {
    return `(sampling failed: ${(err as Error).message})`;
  } finally {
    await db.end().catch(() => undefined);
  }
}

async function pgbenchCase(
  ctx: BenchContext,
  label: string,
  scale: number,
  seconds: number,
): Promise<{ result: PgbenchResult; resources: CaseResources }> {
  const conn = pgbenchConn(ctx.platform);
  await ctx.platform.checkpoint();
  if (!ctx.smoke) {
    const warm = startPgbench(conn, CLIENTS, 2); // warm-up, discarded
    await warm.done.finally(warm.release);
  }
  const { child, done, release } = startPgbench(conn, CLIENTS, seconds);
  const { value, resources } = await ctx.measure(label, () => done, [{ name: 'pgbench', pid: child.pid as number }]).finally(release);
  value.tps = round(value.tps, 1);
  ctx.log(`${label}: ${value.tps} tps, latency avg ${value.latencyAvgMs} ms (scale ${scale})`);
  return { result: value, resources };
}

/**
 * IO stall per case (PSI `full`, % of wall time): pgbench commits with an fsync each, so a disk slowed from outside the
 * platform cuts the baseline far more than Tessera and inflates the ratios. Over 5% in any case flags the run.
 */
function ioStallNote(cases: Array<[string, CaseResources]>): string {
  const known = cases.filter(([, r]) => r.ioStallPct !== undefined);
  if (known.length === 0) return 'IO stall: not measured (no /proc/pressure/io).';
  const worst = Math.max(...known.map(([, r]) => r.ioStallPct as number));
  return `IO stall (PSI full, % of each case's wall time): ${known.map(([n, r]) => `${n} ${r.ioStallPct}%`).join(', ')}${worst > 5 ? ' — IO-STALLED (over 5%): the disk was slow; re-run before publishing' : ''}.`;
}

/** CPU ms per transfer; when no transfer was created, per request (suffix "/req") so a collapse still shows its cost. */
function perTransfer(r: CaseResources, transfers: number, name: string, requests = 0): string {
  const s = r.cpuSeconds[name];
  if (s === undefined) return '-';
  if (transfers > 0) return String(round((s / transfers) * 1000, 3));
  return requests > 0 ? `${round((s / requests) * 1000, 1)}/req` : '-';
}

export const transfersBenchmark: Benchmark = {
  id: 'transfers',
  title: 'Transfers: gateway (single, batch, hot account) vs pgbench on the same PostgreSQL',
  async run(ctx) {
    const base = `http://127.0.0.1:${ctx.platform.portOf('gateway')}`;
    const seconds = ctx.seconds(15);
    const warmupSeconds = ctx.smoke ? 0 : 2;
    const scale = ctx.smoke ? 1 : 16;
    const span = seconds + warmupSeconds;
    // Smoke: 10 wallets only, so a batch of 50 would trip velocity.burst_count in its first request.
    const batchSize = ctx.smoke ? 5 : BATCH_SIZE;
    const sizes = ctx.smoke
      ? { single: 10, batch: 10, hot: 10, profile: 10 }
      : (Object.fromEntries(
          Object.entries(EXPECTED_TPS).map(([k, tps]) => [k, Math.ceil((tps * (k === 'profile' ? 8 : span)) / PER_OWNER)]),
        ) as Record<SliceName, number>);
    const pop: Population = await openPopulation(base, sizes, ctx.smoke, ctx.log);
    ctx.log(
      `population ready in ${pop.setupSeconds}s: ${pop.wallets.length} wallets, ${pop.treasuries} treasuries, merchant ${pop.merchant.id}`,
    );

    const conn = pgbenchConn(ctx.platform);
    const initCommand = await preparePgbench(ctx.platform, conn, scale, ctx.log);
    // Opening and funding the population leaves compliance's AML monitor and insights with events to consume.
    const unquiet = await ctx.quiesce();
    const before = await pgbenchCase(ctx, 'transfers: pgbench (before)', scale, seconds);

    const cases: TesseraCase[] = [];
    const labels: Record<CaseName, string> = {
      single: 'single POST /v1/transfers',
      batch: `batch of ${batchSize} POST /v1/transfers/batch`,
      hot: 'hot account (every transfer credits one merchant)',
    };
    const unquietCases: string[] = [];
    for (const name of ['single', 'batch', 'hot'] as CaseName[]) {
      let waits = '';
      // The consumers drain what the case before left them (a batch case leaves the AML monitor thousands of events):
      // measured without this, the hot case after the batch case paid 4.8 ms of compliance CPU per transfer, 1.7 alone.
      if (cases.length > 0) {
        const unquietCase = await ctx.quiesce();
        if (unquietCase) unquietCases.push(`before ${name}: ${unquietCase}`);
      }
      await ctx.platform.checkpoint(); // as before each pgbench case: no spread checkpoint writing during the case
      const timer = setTimeout(() => void sampleWaits(ctx).then((w) => (waits = w)), (warmupSeconds + seconds / 2) * 1000);
      const { value, resources } = await ctx.measure(`transfers: ${labels[name]}`, () =>
        runCase(base, pop, name, pop.slices[name], { batchSize, seconds, warmupSeconds }),
      );
      clearTimeout(timer);
      const o = value.outcomes;
      ctx.log(
        `${name}: ${value.transfersPerSec} transfers/s, ${value.load.reqPerSec} req/s, p50 ${value.load.p50Ms} ms, p99 ${value.load.p99Ms} ms, POSTED ${o.POSTED} PENDING ${o.PENDING} DECLINED ${o.DECLINED}, refused ${JSON.stringify(o.refused)}`,
      );
      cases.push({ name, label: labels[name], run: value, resources, waits });
    }

    // The AML monitor and insights drain what the hot case left them; pgbench (after) gets the idle machine (before) got.
    const unquietAfter = await ctx.quiesce();
    const after = await pgbenchCase(ctx, 'transfers: pgbench (after)', scale, seconds);
    const base_ = sandwich(before.result.tps, after.result.tps);

    const single = cases[0] as TesseraCase;
    const busiest = (['gateway', 'transactions', 'compliance'] as const).reduce((a, b) =>
      (single.resources.cpuSeconds[b] ?? 0) > (single.resources.cpuSeconds[a] ?? 0) ? b : a,
    );
    ctx.log(`profiling ${busiest} under the single load for ${ctx.seconds(8)}s`);
    const profile = await profileService(ctx.platform, busiest, ctx.profileDir, () =>
      runCase(base, pop, 'profile', pop.slices.profile, { batchSize: 1, seconds: ctx.seconds(8), warmupSeconds: 0 }),
    );
    const restart = await measureRestart(ctx);
    ctx.log(restart === undefined ? 'restart: transactions was not running' : `restart: transactions kill -9 -> ready in ${restart}s`);

    const transfersOf = (c: TesseraCase) => c.run.outcomes.POSTED + c.run.outcomes.PENDING + c.run.outcomes.DECLINED;
    const refusedText = (c: TesseraCase) => {
      const e = Object.entries(c.run.outcomes.refused).map(([k, v]) => `${k} ×${v}`);
      if (c.run.load.errors > 0) e.push(`errors ×${c.run.load.errors}`);
      if (c.run.load.timeouts > 0) e.push(`timeouts ×${c.run.load.timeouts}`);
      return e.join(', ') || '0';
    };
    const pgRow = (label: string, r: { result: PgbenchResult; resources: CaseResources }) => [
      label,
      r.result.tps,
      r.result.tps,
      `avg ${r.result.latencyAvgMs}`,
      '-',
      `${r.result.transactions} committed`,
      r.result.failed,
      '-',
      '-',
      '-',
      perTransfer(r.resources, r.result.transactions, 'postgres'),
      '-',
      '-',
      '-',
      '-',
      perTransfer(r.resources, r.result.transactions, 'pgbench'),
    ];
    const rows = [
      pgRow('pgbench TPC-B-like (before)', before),
      ...cases.map((c) => {
        const n = transfersOf(c);
        const o = c.run.outcomes;
        return [
          c.label,
          c.run.transfersPerSec,
          c.run.load.reqPerSec,
          c.run.load.p50Ms,
          c.run.load.p99Ms,
          `${o.POSTED} / ${o.PENDING} / ${o.DECLINED}`,
          refusedText(c),
          ...SERVICES.map((s) => perTransfer(c.resources, n, s, c.run.load.requests)),
          round((c.resources.benchCpuSeconds / Math.max(n, 1)) * 1000, 3),
        ];
      }),
      pgRow('pgbench TPC-B-like (after)', after),
    ];
    const tps = (n: CaseName) => cases.find((c) => c.name === n)?.run.transfersPerSec ?? 0;
    const notes = [
      ...(unquiet ? [unquiet] : []),
      ...unquietCases,
      ...(unquietAfter ? [`before pgbench (after): ${unquietAfter}`] : []),
      `pgbench sandwich: ${before.result.tps} tps before, ${after.result.tps} after, mean ${round(base_.mean, 1)}, spread ${round(base_.spread * 100, 1)}%${base_.noisy ? ' — NOISY (over 15%): re-run before publishing' : ''}.`,
      ioStallNote([
        ['pgbench (before)', before.resources],
        ...cases.map((c): [string, CaseResources] => [c.name, c.resources]),
        ['pgbench (after)', after.resources],
      ]),
      `Population: ${pop.wallets.length} EUR wallets (one owner each, German holder names, 500.00 EUR top-up each), ${pop.treasuries} LIABILITY treasury accounts that funded them (at most 9 top-ups each), 1 merchant REVENUE account; set up through the gateway in ${pop.setupSeconds}s. Each case debits its own slice (single ${pop.slices.single.length}, batch ${pop.slices.batch.length}, hot ${pop.slices.hot.length}, profile ${pop.slices.profile.length} wallets) round-robin, because compliance rules v1 count velocity per source owner (more than 10 in 60 s -> REVIEW/PENDING, and a batch with one non-approved item is refused whole; more than 60 an hour -> DECLINE), also for the platform's own accounts.`,
      'PAYMENTS.COMPLIANCE_UNAVAILABLE (503) = transactions gave up on Screen after TRANSACTIONS_SCREEN_DEADLINE_MS (800 ms) and refused the transfer (fail-closed). Compliance screens each movement in an interactive transaction (advisory lock per owner, history, insert), one per pooled connection the AML monitor and the alert relay leave free (COMPLIANCE_DB_POOL_MAX 8 minus 2), and drops a screening whose caller left while it queued (AdmissionGate); a batch is screened in one ScreenBatch call (deadline TRANSACTIONS_SCREEN_BATCH_DEADLINE_MS, 5 s; the gateway gives the batch route GATEWAY_BATCH_DEADLINE_MS, 10 s). 429 HTTP.RATE_LIMITED means the gateway was running without the bench rate limits (restarted by another run).',
      ...velocityNotes(cases),
      "Hot account: every transfer credits one merchant account from a different wallet, so all 16 clients queue on that account's row lock (FOR UPDATE). A single hot *source* would measure compliance instead: rules v1 let one owner debit 10 times a minute, then hold (REVIEW) or decline.",
      restart === undefined
        ? 'Restart: not measured (transactions was not running).'
        : `Restart: kill -9 of transactions, then \`npm run infra -- services up transactions\` (the same LocalServices call) until its gRPC health answers SERVING: ${restart}s (target < 5 s; ratio = seconds / 5).`,
      ...cases.map((c) => `pg_stat_activity mid-run, ${c.name} (non-idle backends): ${c.waits || '(not sampled)'}`),
      'CPU ms per transfer = CPU seconds of the process tree over the measured case (utime+stime, PostgreSQL includes its backends, pgbench its threads) / transfers created; for pgbench rows per committed transaction. "bench" is this process (autocannon and request building).',
      '',
      ...profile.notes,
    ];
    const commands = [
      ...(initCommand ? [initCommand] : [`(pgbench database ${'tessera_bench_pgbench'} already initialised at scale ${scale})`]),
      before.result.command,
      after.result.command,
      `warm-up before each pgbench run (full mode): ${conn.bin} ${pgbenchArgs(conn, CLIENTS, 2).join(' ')}`,
      `autocannon (in process, bench/src/harness/http-load.ts): ${CLIENTS} connections, keep-alive, no pipelining, ${warmupSeconds}s warm-up + ${seconds}s measured per case, POST ${base}/v1/transfers (single, hot) and ${base}/v1/transfers/batch with ${batchSize} transfers; each request a fresh Idempotency-Key and the operator's Bearer token (DevIssuer, sub bench-operator); body {sourceAccountId, destinationAccountId, amount {amountMinor 100..2500, currency EUR}, description, counterparty {name, country DE}}.`,
      `profile: ${busiest} (running process, V8 inspector via SIGUSR1), the single load for ${ctx.seconds(8)}s.`,
    ];
    return {
      id: 'transfers',
      title: this.title,
      method: `${CLIENTS} closed-loop clients against the gateway (autocannon) vs pgbench -c ${CLIENTS} (TPC-B-like, -M prepared, scale ${scale}) on the same PostgreSQL, sandwiched; ${warmupSeconds}s warm-up, ${seconds}s measured per case. transfers/s counts transfers created in 2xx answers.`,
      table: {
        columns: [
          'case',
          'transfers/s',
          'req/s',
          'p50 ms',
          'p99 ms',
          'POSTED / PENDING / DECLINED',
          'non-2xx / errors',
          ...SERVICES.map((s) => `${s} CPU ms/transfer`),
          'bench (pgbench) CPU ms/transfer',
        ],
        rows,
      },
      chart: {
        title: 'Transfers per second (16 clients)',
        unit: 'transfers/s',
        bars: [
          { label: 'pgbench TPC-B-like (mean)', value: round(base_.mean, 1), baseline: true },
          ...cases.map((c) => ({ label: c.name, value: c.run.transfersPerSec, baseline: false })),
        ],
      },
      ratios: {
        'single / pgbench tps': ratio(tps('single'), base_.mean),
        'batch / pgbench tps': ratio(tps('batch'), base_.mean),
        'hot / pgbench tps': ratio(tps('hot'), base_.mean),
        ...(restart === undefined ? {} : { 'restart seconds / 5 s target': round(restart / 5, 3) }),
      },
      notes,
      commands,
      raw: {
        population: {
          runId: pop.runId,
          wallets: pop.wallets.length,
          treasuries: pop.treasuries,
          slices: Object.fromEntries(Object.entries(pop.slices).map(([k, v]) => [k, v.length])),
          setupSeconds: pop.setupSeconds,
        },
        pgbench: { before, after, sandwich: base_ },
        cases,
        profile: { service: busiest, file: profile.file },
      },
    };
  },
};

/** kill -9 of transactions, then the local CLI's start, until the service is ready (gRPC health SERVING): seconds. */
async function measureRestart(ctx: BenchContext): Promise<number | undefined> {
  const pid = ctx.platform.pid('transactions');
  if (!pid) return undefined;
  const t0 = Date.now();
  ctx.platform.markAltered('transactions');
  process.kill(pid, 'SIGKILL');
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  while (alive()) await new Promise((r) => setTimeout(r, 20));
  await ctx.platform.start('transactions');
  return round((Date.now() - t0) / 1000, 2);
}

/**
 * A case whose transfers were not all approved ran faster than its wallet slice was sized for (EXPECTED_TPS): its
 * owners passed compliance's velocity limits, so part of it measured the review or decline path.
 */
function velocityNotes(cases: readonly TesseraCase[]): string[] {
  return cases.flatMap((c) => {
    const { POSTED, PENDING, DECLINED } = c.run.outcomes;
    const held = PENDING + DECLINED;
    if (held === 0) return [];
    const share = Math.round((held / Math.max(POSTED + held, 1)) * 1000) / 10;
    return [
      `${c.name}: ${share}% of its transfers were held for review or declined (velocity limits per owner): the case ran faster than the ${EXPECTED_TPS[c.name as SliceName] ?? '?'}/s its wallet slice was sized for; raise EXPECTED_TPS in bench/src/transfers.bench.ts.`,
    ];
  });
}
