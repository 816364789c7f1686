import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { deleteConsumerGroups, kafkaSecurityFromEnv } from '@tessera/kafka';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { REPO_ROOT } from '../../infra/local/topology';
import { framesMarkdown, newestProfile, topFrames } from './harness/profile';
import { fmtRatio, ratio, round, sandwich } from './harness/stats';
import type { BenchContext, Benchmark, BenchResult } from './harness/types';
import { Client } from 'pg';
import { produceAggregateBacklog } from './pipeline/aggregates';
import { endOffsets, partitionsOf, produceBacklog } from './pipeline/backlog';
import { consumerPerformance, countingDrain, type Drain, type DrainSetup, processorDrain } from './pipeline/systems';

const SOURCE_TOPIC = 'analytics.events.raw.v1';
const PROFILE_SECONDS = 20;
/** Issue #11: insights applies at least this many aggregate revisions per second. */
const INSIGHTS_TARGET = 20_000;

/**
 * Pipeline drain (BENCHMARKING.md, "a fixed count for drain benchmarks"): one backlog of valid raw analytics
 * events on a bench topic shaped like analytics.events.raw.v1, consumed from the beginning by each system alone,
 * each on its own consumer group (and, for the processors, its own output topics): Kafka's ConsumerPerformance
 * before and after (the sandwich), bare kafkajs and @platformatic/kafka counting loops, then the TS and the Go
 * stream processor doing their exactly-once aggregation. A last TS run under --cpu-prof gives the profile.
 */
export const pipelineBenchmark: Benchmark = {
  id: 'pipeline',
  title: 'Pipeline drain: one raw-event backlog consumed by each system alone',
  async run(ctx) {
    const n = ctx.smoke ? 2_000 : 150_000;
    const spreadMs = ctx.smoke ? 60_000 : 180_000;
    const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
    const brokers = ctx.platform.brokers;
    const kafka = new Kafka({ ...kafkaSecurityFromEnv(), clientId: 'bench-pipeline', brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const logDir = join(REPO_ROOT, ctx.platform.topo.stateDir, 'bench', 'pipeline', runId);
    const profileDir = join(ctx.profileDir, 'pipeline');
    mkdirSync(logDir, { recursive: true });
    mkdirSync(profileDir, { recursive: true });
    const raw = `bench.pipeline-raw.${runId}.v1`;
    const groups: string[] = [];
    const group = (tag: string) => {
      const g = `bench-pipeline-${runId}-${tag}`;
      groups.push(g);
      return g;
    };
    const out = (kind: string, tag: string) => `bench.pipeline-${kind}.${runId}-${tag}.v1`;
    try {
      const partitions =
        (await partitionsOf(admin, SOURCE_TOPIC)) ?? ctx.platform.topo.topics.find((t) => t.name === SOURCE_TOPIC)?.partitions ?? 6;
      await admin.createTopics({
        waitForLeaders: true,
        topics: [
          { topic: raw, numPartitions: partitions, replicationFactor: -1 },
          ...['ts', 'go', 'tsprof'].flatMap((tag) => [
            { topic: out('aggregates', tag), numPartitions: 3, replicationFactor: -1 },
            { topic: out('dlq', tag), numPartitions: 1, replicationFactor: -1 },
          ]),
        ],
      });
      ctx.log(`producing ${n} raw events to ${raw} (${partitions} partitions, event times over the last ${spreadMs / 1000}s)`);
      const produced = await produceBacklog(kafka, raw, n, spreadMs, runId);
      const ends = await endOffsets(admin, raw);
      const total = [...ends.values()].reduce((a, b) => a + b, 0);
      if (total !== n) throw new Error(`the backlog holds ${total} records, expected ${n}`);
      ctx.log(
        `produced in ${round(produced.seconds, 1)}s (${Math.round(n / produced.seconds)} events/s, ${round(produced.bytes / n, 0)} B/value)`,
      );

      const s: DrainSetup = { ctx, admin, brokers, topic: raw, n, ends, logDir, timeoutMs: ctx.smoke ? 60_000 : 300_000 };
      const tsEnv = (tag: string): Record<string, string> => ({
        STREAM_PROCESSOR_RAW_TOPIC: raw,
        STREAM_PROCESSOR_AGGREGATES_TOPIC: out('aggregates', tag),
        STREAM_PROCESSOR_DLQ_TOPIC: out('dlq', tag),
        STREAM_PROCESSOR_CHANGELOG_TOPIC: out('changelog', tag),
        STREAM_PROCESSOR_PAYMENTS_TOPIC: 'none',
        STREAM_PROCESSOR_PAYMENTS_REPARTITION_TOPIC: out('repartition', tag),
        STREAM_PROCESSOR_GROUP: `stream-processor.bench-${runId}-${tag}`,
        STREAM_PROCESSOR_TRANSACTIONAL_ID_PREFIX: `bench-pipeline-${runId}-${tag}`,
        STREAM_PROCESSOR_METRICS_PORT: '', // the platform's processor holds its port
      });
      const goEnv: Record<string, string> = {
        STREAM_PROCESSOR_GO_RAW_TOPIC: raw,
        STREAM_PROCESSOR_GO_PAYMENTS_TOPIC: 'none', // as the TS runs: the raw backlog only
        STREAM_PROCESSOR_GO_AGGREGATES_TOPIC: out('aggregates', 'go'),
        STREAM_PROCESSOR_GO_DLQ_TOPIC: out('dlq', 'go'),
        STREAM_PROCESSOR_GO_STATE_TOPIC: out('state', 'go'),
        STREAM_PROCESSOR_GO_GROUP_ID: `stream-processor-go.bench-${runId}`,
        STREAM_PROCESSOR_GO_TRANSACTIONAL_ID: `bench-pipeline-${runId}-go`,
        STREAM_PROCESSOR_GO_METRICS_PORT: '',
      };
      const ts1 = tsEnv('ts');
      const prof: Record<string, string> = { ...tsEnv('tsprof'), NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` };
      groups.push(
        ts1['STREAM_PROCESSOR_GROUP'] as string,
        prof['STREAM_PROCESSOR_GROUP'] as string,
        goEnv['STREAM_PROCESSOR_GO_GROUP_ID'] as string,
      );

      const step = async (what: string, fn: () => Promise<Drain>) => {
        ctx.log(`draining: ${what}`);
        const d = await fn();
        if (d.detail['caughtUp'] === false)
          ctx.log(`  ${what}: stopped after ${round(d.drainSeconds, 1)}s with ${d.detail['committed'] as number} records committed`);
        else
          ctx.log(
            `  ${what}: ${Math.round(((d.detail['records'] as number | undefined) ?? n) / d.drainSeconds)} ${what.startsWith('insights') ? 'revisions' : 'events'}/s (${round(d.drainSeconds, 2)}s, ${round(d.steadySeconds, 2)}s excl. start-up), CPU ${d.cpuSeconds}s, RSS ${d.peakRssMb} MB`,
          );
        return d;
      };
      const cpBefore = await step('ConsumerPerformance', () => consumerPerformance(s, 'ConsumerPerformance', group('cp1')));
      const kafkajs = await step('bare kafkajs', () => countingDrain(s, 'kafkajs', 'bare kafkajs eachBatch', group('kafkajs')));
      const platformatic = await step('bare @platformatic/kafka', () =>
        countingDrain(s, 'platformatic', 'bare @platformatic/kafka', group('platformatic')),
      );
      const ts = await step('TS stream-processor', () =>
        processorDrain(s, 'stream-processor', 'TS stream-processor', ts1['STREAM_PROCESSOR_GROUP'] as string, ts1),
      );
      const go = await step('Go stream-processor', () =>
        processorDrain(s, 'stream-processor-go', 'Go stream-processor-go', goEnv['STREAM_PROCESSOR_GO_GROUP_ID'] as string, goEnv),
      );
      const cpAfter = await step('ConsumerPerformance (again)', () => consumerPerformance(s, 'ConsumerPerformance (after)', group('cp2')));
      const profiled = await step('TS stream-processor under --cpu-prof (not measured)', () =>
        // Time-boxed: the profile of the steady drain is what matters, and the full backlog would double the run.
        processorDrain(s, 'stream-processor', 'TS stream-processor (--cpu-prof)', prof['STREAM_PROCESSOR_GROUP'] as string, prof, {
          measure: false,
          maxSeconds: ctx.smoke ? 10 : PROFILE_SECONDS,
        }),
      );
      const insights = await insightsDrain(ctx, kafka, admin, s, runId, step);
      return report({
        n,
        partitions,
        produced,
        runId,
        spreadMs,
        profileDir,
        drains: { cpBefore, kafkajs, platformatic, ts, go, cpAfter, profiled },
        insights,
      });
    } finally {
      await cleanup(kafka, runId, groups, ctx.log).catch((err: unknown) => ctx.log(`cleanup failed: ${String(err)}`));
      await admin.disconnect().catch(() => undefined);
    }
  },
};

/**
 * insights alone on a backlog of aggregate revisions (issue #11: >= 20,000 revisions/s): a second insights process (the
 * platform's launch command and environment; its own topic, group and a free gRPC port, no metrics port) applies
 * `keys` windows x `revisions` revisions of a bench tenant into the platform's read model, emitted as a live processor
 * emits them (revision 1 of every window, then revision 2, ...). Afterwards the read model must hold each window once,
 * at its last revision; the bench tenant's rows are deleted.
 */
async function insightsDrain(
  ctx: BenchContext,
  kafka: Kafka,
  admin: Admin,
  s: DrainSetup,
  runId: string,
  step: (what: string, fn: () => Promise<Drain>) => Promise<Drain>,
): Promise<InsightsDrain> {
  const keys = ctx.smoke ? 200 : 20_000;
  const revisions = ctx.smoke ? 2 : 10;
  const topic = `bench.pipeline-insights.${runId}.v1`;
  const tenant = `bench-${runId}`;
  const group = `insights.bench-${runId}`;
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic, numPartitions: 3, replicationFactor: -1 },
      { topic: `${topic}.dlq`, numPartitions: 1, replicationFactor: -1 },
    ],
  });
  ctx.log(`producing ${keys * revisions} aggregate revisions (${keys} windows x ${revisions}) of tenant ${tenant} to ${topic}`);
  const produced = await produceAggregateBacklog(kafka, topic, tenant, keys, revisions);
  const ends = await endOffsets(admin, topic);
  const n = [...ends.values()].reduce((a, b) => a + b, 0);
  const db = new Client({ connectionString: ctx.platform.databaseUrl('tessera_insights') });
  await db.connect();
  try {
    const drain = await step('insights read model (aggregate revisions)', () =>
      processorDrain({ ...s, topic, n, ends }, 'insights', 'insights read model (aggregate revisions)', group, {
        INSIGHTS_AGGREGATES_TOPIC: topic,
        INSIGHTS_CONSUMER_GROUP: group,
        INSIGHTS_GRPC_PORT: '0',
        INSIGHTS_METRICS_PORT: '', // the platform's insights holds its port
      }),
    );
    const stored = (
      await db.query<{ rows: string; at_last: string }>(
        'select count(*) as rows, count(*) filter (where revision = $2) as at_last from window_aggregates where tenant_id = $1',
        [tenant, revisions],
      )
    ).rows[0];
    return { drain, keys, revisions, n, produced, rows: Number(stored?.rows ?? 0), atLastRevision: Number(stored?.at_last ?? 0) };
  } finally {
    await db.query('delete from window_aggregates where tenant_id = $1', [tenant]).catch(() => undefined);
    await db.end();
    await deleteConsumerGroups(kafka, [group]).catch(() => undefined);
  }
}

interface InsightsDrain {
  drain: Drain;
  keys: number;
  revisions: number;
  n: number;
  produced: { seconds: number; bytes: number };
  rows: number;
  atLastRevision: number;
}

async function cleanup(kafka: Kafka, runId: string, groups: string[], log: (l: string) => void): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith('bench.pipeline-') && t.includes(runId));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
    const existing = new Set((await admin.listGroups()).groups.map((g) => g.groupId));
    const mine = [...new Set(groups)].filter((g) => existing.has(g));
    await deleteConsumerGroups(kafka, mine);
    log(`cleaned up ${topics.length} bench topics and ${mine.length} consumer groups`);
  } finally {
    await admin.disconnect();
  }
}

interface ReportInput {
  n: number;
  partitions: number;
  runId: string;
  spreadMs: number;
  profileDir: string;
  produced: { seconds: number; bytes: number };
  drains: Record<'cpBefore' | 'kafkajs' | 'platformatic' | 'ts' | 'go' | 'cpAfter' | 'profiled', Drain>;
  insights: InsightsDrain;
}

function report(r: ReportInput): BenchResult {
  const { n, drains: d } = r;
  const eps = (x: Drain) => n / x.drainSeconds;
  // Under 0.25 s (the processors' poll period; smoke backlogs) the consuming-only time is not measurable.
  const steadyEps = (x: Drain) => (x.steadySeconds >= 0.25 ? n / x.steadySeconds : Number.NaN);
  const cp = sandwich(eps(d.cpBefore), eps(d.cpAfter));
  const cpSteady = sandwich(steadyEps(d.cpBefore), steadyEps(d.cpAfter));
  const measured = [d.cpBefore, d.kafkajs, d.platformatic, d.ts, d.go, d.cpAfter];
  const rows = measured.map((x) => [
    x.system,
    Math.round(eps(x)),
    round(x.drainSeconds, 2),
    Number.isFinite(steadyEps(x)) ? Math.round(steadyEps(x)) : '-',
    x.cpuSeconds,
    round((x.cpuSeconds / n) * 100_000, 2),
    x.peakRssMb,
    x.peakPssMb,
  ]);
  const ins = r.insights;
  const insSteady = ins.drain.steadySeconds >= 0.25 ? ins.n / ins.drain.steadySeconds : Number.NaN;
  rows.push([
    `${ins.drain.system}: revisions/s, not events/s`,
    Math.round(ins.n / ins.drain.drainSeconds),
    round(ins.drain.drainSeconds, 2),
    Number.isFinite(insSteady) ? Math.round(insSteady) : '-',
    ins.drain.cpuSeconds,
    round((ins.drain.cpuSeconds / ins.n) * 100_000, 2),
    ins.drain.peakRssMb,
    ins.drain.peakPssMb,
  ]);
  const ratios: Record<string, number> = {
    'insights revisions/s (excl. start-up) / 20k target': ratio(insSteady, INSIGHTS_TARGET),
    'ts processor / ConsumerPerformance': ratio(eps(d.ts), cp.mean),
    'ts processor / bare kafkajs': ratio(eps(d.ts), eps(d.kafkajs)),
    'go processor / ConsumerPerformance': ratio(eps(d.go), cp.mean),
    'ts / go': ratio(eps(d.ts), eps(d.go)),
    'ts / go (excl. start-up)': ratio(steadyEps(d.ts), steadyEps(d.go)),
    'ts processor / ConsumerPerformance (excl. start-up)': ratio(steadyEps(d.ts), cpSteady.mean),
    'ts / go CPU s per event': ratio(d.ts.cpuSeconds, d.go.cpuSeconds),
  };
  for (const [k, v] of Object.entries(ratios)) if (!Number.isFinite(v)) delete ratios[k];
  const profile = newestProfile(r.profileDir);
  const notes = [
    `Backlog: ${n} valid raw events (EventEnvelope + AnalyticsEvent, ${round(r.produced.bytes / n, 0)} B per value; 8 tenants x 4 streams keyed tenant/stream; country, plan, user_id attributes; event times over ${r.spreadMs / 1000} s) on a ${r.partitions}-partition topic like ${SOURCE_TOPIC}; produced (not measured) in ${round(r.produced.seconds, 1)} s = ${Math.round(n / r.produced.seconds)} events/s by one kafkajs producer, acks=-1, 10 000 records per request.`,
    'events/s = N / (release of the process -> N records consumed), so runtime start-up (JVM, Node + tsx, the processors\' boot, changelog topic creation) and the group join are in; "excl. start-up" counts from the first record (ConsumerPerformance: its own fetch.time.ms; processors: the first committed offset seen by a 250 ms admin poll, to every partition\'s committed offset = end offset).',
    'Not the same work: ConsumerPerformance and the two bare Node loops only fetch and count (auto-commit). The TS and Go stream processors decode every envelope, validate and dedupe events, aggregate 10s/60s/60s-sliding windows by country and plan with an HLL of user_id, write aggregates and their state changelog in Kafka transactions with the input offsets (exactly-once, read_committed), one transaction per fetched batch; the TS one also records traces (10% of batches) as on the platform.',
    `CPU s = utime+stime of each process (tree) over its drain; peak RSS sampled every second (the bare Node loops report their own getrusage maxRSS, which is used when higher). The bare Node loops run through \`node --import tsx\` (TS compiled at start: a few hundred ms of CPU).`,
    `Sandwich: ConsumerPerformance ${Math.round(eps(d.cpBefore))} events/s before, ${Math.round(eps(d.cpAfter))} after, spread ${round(cp.spread * 100, 1)}%${cp.noisy ? ' - NOISY (over 15%): re-run before publishing' : ' (under 15%)'}; excl. start-up spread ${round(cpSteady.spread * 100, 1)}%${cpSteady.noisy ? ' (noisy)' : ''}. Ratios use the mean of the two.`,
    `insights: ${ins.n} aggregate revisions (${ins.keys} windows of a bench tenant x ${ins.revisions} revisions, ${round(ins.produced.bytes / ins.n, 0)} B per value, 3 partitions), emitted in revision order as a live processor emits them (revision 1 of every window, then 2, ...), so a fetched batch holds nearly only distinct windows: the worst case for keeping the newest revision per window of a batch. A second insights process (the platform's launch command and environment, its own topic and group) applies them to the platform's read model; "excl. start-up" runs from its first committed offset. PostgreSQL's CPU over the same drain: ${ins.drain.detail['postgresCpuSeconds'] as number} s (not in the CPU column). Afterwards the read model held ${ins.rows} rows of the tenant, ${ins.atLastRevision} at the last revision (expected ${ins.keys} and ${ins.keys}${ins.rows === ins.keys && ins.atLastRevision === ins.keys ? ': correct' : ': WRONG'}); they were deleted. Target (issue #11): ${INSIGHTS_TARGET} revisions/s.`,
    `Profiled TS run (own group, fresh changelog, not measured, --cpu-prof, stopped with SIGTERM after at most ${PROFILE_SECONDS} s): ${d.profiled.detail['committed'] as number} records committed in ${round(d.profiled.drainSeconds, 1)} s.`,
  ];
  if (profile)
    notes.push(
      '',
      ...framesMarkdown('the TS stream-processor draining the backlog', topFrames(profile)),
      '',
      `Profile: \`${relative(REPO_ROOT, profile)}\` (Chrome DevTools or speedscope).`,
    );
  else notes.push('(no CPU profile of the TS stream-processor was written)');
  return {
    id: 'pipeline',
    title: 'Pipeline drain: one raw-event backlog consumed by each system alone',
    method: `Time to consume the same ${n}-record backlog from the beginning, each system alone on its own consumer group (processors: own output topics), one after another; ConsumerPerformance first and last (sandwich).`,
    table: {
      columns: ['system', 'events/s', 'drain s', 'events/s excl. start-up', 'CPU s', 'CPU s per 100k events', 'peak RSS MB', 'peak PSS MB'],
      rows,
    },
    chart: {
      title: `Drain of ${n} raw events (events/s, start-up included)`,
      unit: 'events/s',
      bars: [
        { label: 'ConsumerPerformance', value: Math.round(cp.mean), baseline: true },
        { label: 'bare kafkajs', value: Math.round(eps(d.kafkajs)), baseline: true },
        { label: 'bare @platformatic/kafka', value: Math.round(eps(d.platformatic)), baseline: true },
        { label: 'TS stream-processor', value: Math.round(eps(d.ts)), baseline: false },
        { label: 'Go stream-processor', value: Math.round(eps(d.go)), baseline: false },
      ],
    },
    ratios,
    notes: [
      ...notes,
      '',
      `Ratios: ${Object.entries(ratios)
        .map(([k, v]) => `${k} ${fmtRatio(v)}`)
        .join('; ')}.`,
    ],
    commands: [
      `(in process) bench topic bench.pipeline-raw.${r.runId}.v1, ${r.partitions} partitions; output topics bench.pipeline-{aggregates,dlq}.${r.runId}-<ts|go|tsprof>.v1 (3 and 1 partitions); produce: bench/src/pipeline/backlog.ts produceBacklog()`,
      ...Object.values(d).map((x) => `${x.system}: ${x.command}`),
      "Processes are started behind `sh -c 'read _; ...'` so their CPU is read from before their first instruction; topics and groups are deleted at the end.",
    ],
    raw: {
      n,
      partitions: r.partitions,
      runId: r.runId,
      produced: r.produced,
      sandwich: { events: cp, steady: cpSteady },
      drains: d,
      insights: r.insights,
      profile: profile ? relative(REPO_ROOT, profile) : undefined,
    },
  };
}
