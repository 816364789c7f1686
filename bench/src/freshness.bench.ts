import { aggregateStage } from '../../infra/local/services';
import {
  histogramBucketBound,
  histogramDelta,
  type HistogramSnapshot,
  histogramQuantile,
  parseHistogram,
  scrape,
} from './freshness/histogram';
import { groupsOnPath, LagSampler } from './freshness/lag';
import { BATCH, DEADLINE_MS, MAX_IN_FLIGHT, OpenLoopSink, send, type SendOutcome, TENANTS } from './freshness/load';
import { profileService } from './harness/profile';
import type { CaseResources } from './harness/resources';
import { round } from './harness/stats';
import type { Benchmark } from './harness/types';

/** insights' `tessera.pipeline.e2e_latency` (s) as Prometheus text (services/insights/src/aggregates/pipeline-latency.metrics.ts). */
const E2E_METRIC = 'tessera_pipeline_e2e_latency';

/** The aggregate stage on the path (TESSERA_AGGREGATE_STAGE, as `npm run up`): `both` measures the TS one beside Go. */
export function freshnessStage(env: NodeJS.ProcessEnv = process.env): {
  stage: 'ts' | 'go';
  processor: 'stream-processor' | 'stream-processor-go';
  note?: string;
} {
  const chosen = aggregateStage(env);
  if (chosen === 'go') return { stage: 'go', processor: 'stream-processor-go' };
  return {
    stage: 'ts',
    processor: 'stream-processor',
    ...(chosen === 'both' ? { note: 'TESSERA_AGGREGATE_STAGE=both: the Go stage ran beside the measured TS one, on the same cores.' } : {}),
  };
}

interface Latency {
  revisions: number;
  p50: number;
  p99: number;
  /** Upper bound of the bucket p99 falls in. */
  p99Bucket: number;
  mean: number;
}

interface Phase {
  rate: number;
  send: SendOutcome;
  drain: { drained: boolean; ms: number; lag: Record<string, number> };
  maxLag: Record<string, number>;
  lagSamples: number;
  /** Mean lag per group over the first and the last third of the sending (LagSampler.trend). */
  lagTrend: Record<string, { first: number; last: number }>;
  early: Latency;
  final: Latency;
  resources: CaseResources;
}

function latency(h: HistogramSnapshot): Latency {
  return {
    revisions: h.count,
    p50: round(histogramQuantile(h, 0.5), 3),
    p99: round(histogramQuantile(h, 0.99), 3),
    p99Bucket: histogramBucketBound(h, 0.99),
    mean: h.count > 0 ? round(h.sum / h.count, 3) : NaN,
  };
}

const cell = (n: number): string | number => (Number.isFinite(n) ? n : '-');

/** CPU s of the components that matter here; Kafka brokers summed; the rest as one number. */
function cpuColumns(r: CaseResources, pipeline: string[]): number[] {
  const cpu = r.cpuSeconds;
  const kafka = Object.entries(cpu)
    .filter(([n]) => n.startsWith('kafka'))
    .reduce((a, [, v]) => a + v, 0);
  const named = new Set([...pipeline, 'postgres']);
  const rest = Object.entries(cpu)
    .filter(([n]) => !named.has(n) && !n.startsWith('kafka'))
    .reduce((a, [, v]) => a + v, 0);
  // A process restarted mid-phase (by another run on the platform) reads as negative: shown as 0.
  return [...pipeline.map((n) => cpu[n] ?? 0), round(kafka), cpu['postgres'] ?? 0, round(rest), r.benchCpuSeconds].map((v) =>
    Math.max(0, v),
  );
}

/**
 * Freshness: open loop at fixed offered rates through ingest (gRPC, mTLS, tenant keys) with every service
 * live; event-to-visible latency from insights' own e2e histogram, consumer lag along the path, CPU s per
 * component, and a CPU profile of the busiest service at 3,000/s.
 */
export const freshnessBenchmark: Benchmark = {
  id: 'freshness',
  title: 'Freshness: event time to aggregate visible in insights, open loop through ingest at fixed rates',
  async run(ctx) {
    // BENCH_FRESHNESS_RATES / _SECONDS: e.g. `5000` for `300` s, the sustained run of issue #11 (bench/README.md).
    const rates = ctx.smoke
      ? [100]
      : (process.env.BENCH_FRESHNESS_RATES?.split(',')
          .map(Number)
          .filter((n) => n > 0) ?? [1000, 3000, 5000]);
    const seconds = ctx.seconds(Number(process.env.BENCH_FRESHNESS_SECONDS) || 30);
    const warmupSeconds = ctx.smoke ? 1 : 3;
    const drainTimeoutMs = ctx.smoke ? 5_000 : 20_000;
    const profileRate = ctx.smoke ? 100 : 3000;
    const profileSeconds = ctx.smoke ? 1 : 10;
    // The aggregate stage on the path: TESSERA_AGGREGATE_STAGE=go npm run bench -- freshness measures the Go one.
    const { stage, processor, note: stageNote } = freshnessStage();
    const PIPELINE = ['ingest', processor, 'insights'];
    ctx.log(`aggregate stage: ${processor}`);
    const insights = ctx.platform.topo.services.find((s) => s.name === 'insights');
    if (insights?.metricsPort === undefined) throw new Error('insights has no metricsPort in infra/topology.yaml');
    const metricsUrl = `http://127.0.0.1:${insights.metricsPort}/metrics`;
    const ingestAddr = `127.0.0.1:${ctx.platform.portOf('ingest')}`;
    const e2e = async () => {
      const text = await scrape(metricsUrl);
      return {
        early: parseHistogram(text, E2E_METRIC, { tessera_aggregate_final: 'false' }),
        final: parseHistogram(text, E2E_METRIC, { tessera_aggregate_final: 'true' }),
      };
    };
    if ((await e2e()).early.buckets.size === 0) ctx.log(`note: ${E2E_METRIC}_bucket not (yet) exported by ${metricsUrl}`);

    const sink = new OpenLoopSink(ingestAddr);
    const lag = new LagSampler(
      ctx.platform.brokers,
      groupsOnPath((service) => ctx.platform.env(service), processor),
    );
    const phases: Phase[] = [];
    let profileNotes: string[] = [];
    let profiled = '';
    let pre: { drained: boolean; ms: number; lag: Record<string, number> } | undefined;
    try {
      const groups = await lag.connect();
      ctx.log(`consumer groups on the path: ${groups.map((g) => `${g.groupId} (${g.topic})`).join(', ')}`);
      pre = await lag.waitDrained(ctx.smoke ? 3000 : drainTimeoutMs);
      if (!pre.drained) ctx.log(`the path was not drained before the first phase: ${JSON.stringify(pre.lag)}`);
      for (const rate of rates) {
        ctx.log(`${rate} events/s: ${warmupSeconds} s warm-up, ${seconds} s measured, drain <= ${drainTimeoutMs / 1000} s`);
        await send(sink, rate, warmupSeconds);
        const { value, resources } = await ctx.measure(`freshness ${rate} ev/s (${seconds} s + drain)`, async () => {
          const before = await e2e();
          lag.start(1000);
          const sent = await send(sink, rate, seconds);
          const drain = await lag.waitDrained(drainTimeoutMs);
          const samples = lag.samples;
          const lagTrend = lag.trend();
          const maxLag = lag.stop();
          const after = await e2e();
          return {
            sent,
            drain,
            maxLag,
            lagTrend,
            samples,
            early: latency(histogramDelta(before.early, after.early)),
            final: latency(histogramDelta(before.final, after.final)),
          };
        });
        phases.push({
          rate,
          send: value.sent,
          drain: value.drain,
          maxLag: value.maxLag,
          lagTrend: value.lagTrend,
          lagSamples: value.samples,
          early: value.early,
          final: value.final,
          resources,
        });
        const s = value.sent;
        ctx.log(
          `  offered ${round(s.offeredRate, 0)}/s, accepted ${round(s.acceptedRate, 0)}/s, rejected ${s.stats.rejected}, errors ${s.errors}; ` +
            `early p50 ${value.early.p50} s p99 ${value.early.p99} s (${value.early.revisions} revisions); max lag ${JSON.stringify(value.maxLag)}; ` +
            `${value.drain.drained ? `drained in ${round(value.drain.ms / 1000, 1)} s` : `NOT drained after ${drainTimeoutMs / 1000} s: ${JSON.stringify(value.drain.lag)}`}`,
        );
      }

      // Profile the Node service that burnt the most CPU at 3,000/s (the only phase in smoke mode); V8's inspector
      // profiles Node processes only (SIGUSR1 would end a Go one: profile that with the pipeline bench's go test -bench).
      const at = phases.find((p) => p.rate === profileRate) ?? phases[0];
      const services = new Set(ctx.platform.topo.services.filter((s) => s.runtime === 'node').map((s) => s.name));
      profiled =
        Object.entries(at?.resources.cpuSeconds ?? {})
          .filter(([n]) => services.has(n))
          .sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'ingest';
      ctx.log(`profiling ${profiled} (busiest service at ${at?.rate ?? profileRate}/s) for ${profileSeconds} s at ${profileRate}/s`);
      const profile = await profileService(ctx.platform, profiled, ctx.profileDir, () => send(sink, profileRate, profileSeconds));
      profileNotes = profile.notes;
    } finally {
      await lag.close().catch(() => undefined);
      await sink.close();
    }

    const groupIds = [...new Set(phases.flatMap((p) => Object.keys(p.maxLag)))];
    const table = {
      columns: [
        'offered (ev/s)',
        'achieved offered (ev/s)',
        'accepted (ev/s)',
        'rejected',
        'errors',
        'e2e p50 (s)',
        'e2e p99 (s)',
        'p99 bucket <= (s)',
        'revisions',
        'final p50 (s)',
        'final p99 (s)',
        ...groupIds.map((g) => `max lag ${g}`),
        ...groupIds.map((g) => `mean lag ${g}, first -> last third`),
        'drained (s)',
        ...PIPELINE.map((n) => `CPU s ${n}`),
        'CPU s kafka',
        'CPU s postgres',
        'CPU s other',
        'CPU s loadgen (bench)',
      ],
      rows: phases.map((p) => [
        p.rate,
        round(p.send.offeredRate, 0),
        round(p.send.acceptedRate, 0),
        p.send.stats.rejected,
        p.send.errors,
        cell(p.early.p50),
        cell(p.early.p99),
        cell(p.early.p99Bucket),
        p.early.revisions,
        cell(p.final.p50),
        cell(p.final.p99),
        ...groupIds.map((g) => p.maxLag[g] ?? '-'),
        ...groupIds.map((g) => (p.lagTrend[g] ? `${p.lagTrend[g].first} -> ${p.lagTrend[g].last}` : '-')),
        p.drain.drained ? round(p.drain.ms / 1000, 1) : `no (> ${drainTimeoutMs / 1000})`,
        ...cpuColumns(p.resources, PIPELINE),
      ]),
    };
    const ratios: Record<string, number> = {};
    const top = phases[phases.length - 1];
    if (top) ratios[`accepted / offered @${top.rate}`] = round(top.send.acceptedRate / top.rate, 3);
    for (const p of phases) if (Number.isFinite(p.early.p99)) ratios[`e2e p99 s @${p.rate}`] = p.early.p99;
    if (top && Number.isFinite(top.early.p99)) ratios[`e2e p99 @${top.rate} / 1 s target`] = round(top.early.p99, 3);

    const notes = [
      `Aggregate stage: ${processor} (TESSERA_AGGREGATE_STAGE=${stage}).${stageNote ? ` ${stageNote}` : ''}`,
      'No baseline: freshness is an end-to-end property of the platform; the table is for comparing Tessera with itself over time and across rates.',
      `Latency source: insights' \`${E2E_METRIC}\` histogram (event time of the newest event a revision covers -> revision stored in insights), scraped before and after each phase (after the drain); ` +
        'p50/p99 are linearly interpolated within the bucket (buckets 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30 ... 600 s; histogram_quantile-style), "p99 bucket <=" is the bucket upper bound. ' +
        '"e2e" = early (non-final) revisions, the freshness the target is about; "final" = windows closed by the watermark, which include the window length.',
      'The histogram is platform-wide: any other load on the same platform during a phase (other benchmarks run concurrently) lands in it too; warm-up events still in flight at the start of a phase are counted.',
      `Load: @tessera/loadgen runLoad + GrpcSink to ingest ${ingestAddr} (mTLS as loadgen), tenants ${TENANTS.join(', ')}, ${BATCH} events per IngestBatch, up to ${MAX_IN_FLIGHT} requests in flight. ` +
        'Open loop: the sink does not retry (back-pressure or a failed batch counts as "errors"), event times follow the schedule, so a generator that falls behind shows up as latency. ' +
        `The runner caps generated-but-unanswered events at 2 x batch x in-flight (${2 * BATCH * MAX_IN_FLIGHT}); with the ${DEADLINE_MS / 1000} s IngestBatch deadline that cap is only reached above ${(2 * BATCH * MAX_IN_FLIGHT) / (DEADLINE_MS / 1000)} ev/s. "achieved offered" is what was actually sent per second of sending.`,
      ...phases
        .filter((p) => p.send.behindMs > 500)
        .map(
          (p) =>
            `@${p.rate}/s the generator finished ${round(p.send.behindMs / 1000, 1)} s behind schedule: the offered rate was not fully achieved (2 shared cores).`,
        ),
      ...phases
        .filter((p) => p.early.p99Bucket >= 600)
        .map(
          (p) =>
            `@${p.rate}/s the e2e p99 is in the histogram's top bucket (300-600 s or beyond): revisions stored during the phase mostly came from a backlog older than the phase; the interpolated value is only a bucket position.`,
        ),
      ...phases.flatMap((p) =>
        Object.values(p.resources.cpuSeconds).some((v) => v < 0)
          ? [
              `@${p.rate}/s a component restarted during the phase (negative CPU delta, shown as 0): ${Object.entries(
                p.resources.cpuSeconds,
              )
                .filter(([, v]) => v < 0)
                .map(([n]) => n)
                .join(', ')}.`,
            ]
          : [],
      ),
      ...(pre && !pre.drained
        ? [
            `The path was NOT drained before the first phase (waited ${round(pre.ms / 1000, 1)} s): lag ${JSON.stringify(pre.lag)}; that backlog is in the first phase's latency and lag.`,
          ]
        : []),
      ...[...sink.errors].map(
        ([reason, n]) => `Errors (all phases incl. warm-up and profile): ${n} events in batches that failed with: ${reason}`,
      ),
      ...phases.flatMap((p) =>
        Object.keys(p.send.stats.rejectedByCode).length > 0
          ? [`@${p.rate}/s rejections by code: ${JSON.stringify(p.send.stats.rejectedByCode)}`]
          : [],
      ),
      `Consumer lag: log-end minus committed offset summed over partitions (kafkajs admin), sampled every 1 s during sending and every 250 ms while draining (at most ${drainTimeoutMs / 1000} s after sending stops); "drained" = every group at 0; "mean lag, first -> last third" = the group's mean sampled lag over the first and the last third of the sending (bounded lag: about equal; a consumer slower than the input: growing by the difference every second). ` +
        'compliance.aml-monitor is not on the analytics path (it reads payments.transfer.events.v1) and is left out.',
      `CPU s = utime+stime of each process tree over the measured phase (sending + drain, warm-up excluded); "other" = gateway, transactions, compliance, Zipkin, VictoriaMetrics.`,
      '',
      `CPU profile: ${profiled} (running process, V8 inspector via SIGUSR1), ${profileSeconds} s at ${profileRate} events/s.`,
      '',
      ...profileNotes,
    ];
    return {
      id: 'freshness',
      title: this.title,
      method: `Per offered rate: ${warmupSeconds} s warm-up (discarded), ${seconds} s open-loop sending through ingest over gRPC, then wait for consumer lag 0 (<= ${drainTimeoutMs / 1000} s). Latency from the delta of insights' e2e latency histogram over the phase.`,
      table,
      chart: {
        title: 'Event-to-visible p99 (early revisions) per offered rate',
        unit: 's',
        bars: phases.map((p) => ({ label: `${p.rate} ev/s`, value: Number.isFinite(p.early.p99) ? p.early.p99 : 0, baseline: false })),
      },
      ratios,
      notes,
      commands: [
        `npm run bench -- freshness${ctx.smoke ? ' --smoke' : ''}`,
        '(in process) runLoad({ rate, durationMs, sink: GrpcSink(maxAttempts 1), tenants, batchSize, maxInFlight }) from @tessera/loadgen',
        `curl -s ${metricsUrl} | grep ${E2E_METRIC}_bucket   # before and after each phase`,
        'kafkajs admin.fetchOffsets / fetchTopicOffsets per group every 1 s',
      ],
      raw: {
        stage,
        processor,
        rates,
        seconds,
        warmupSeconds,
        drainTimeoutMs,
        lagBeforeFirstPhase: pre,
        phases: phases.map((p) => ({ ...p, early: { ...p.early }, final: { ...p.final } })),
        profiled,
      },
    };
  },
};
