import { computeLag, kafkaSecurityFromEnv } from '@tessera/kafka';
import { type Admin, Kafka, logLevel } from 'kafkajs';

/** A consumer group and the input topic on the analytics path it is measured on. */
export interface GroupOnPath {
  groupId: string;
  topic: string;
}

/**
 * The consumer groups of the live path (ingest -> stream-processor -> insights): the stream processor's group on
 * analytics.events.raw.v1 and insights' group on analytics.aggregates.v1, as the services' environment names them
 * (else their config defaults, stream-processor.aggregates and insights.read-models). Other `stream-processor.*`
 * groups on the broker (restore/replay groups, other benchmarks' private groups) are not on the live path.
 */
export function groupsOnPath(
  env: (service: string) => Record<string, string>,
  processor: 'stream-processor' | 'stream-processor-go' = 'stream-processor',
): GroupOnPath[] {
  const stage =
    processor === 'stream-processor-go'
      ? { groupId: env(processor)['STREAM_PROCESSOR_GO_GROUP_ID'] ?? 'stream-processor-go.aggregates', topic: 'analytics.events.raw.v1' }
      : { groupId: env(processor)['STREAM_PROCESSOR_GROUP'] ?? 'stream-processor.aggregates', topic: 'analytics.events.raw.v1' };
  return [stage, { groupId: env('insights')['INSIGHTS_CONSUMER_GROUP'] ?? 'insights.read-models', topic: 'analytics.aggregates.v1' }];
}

/** Log-end offset minus committed offset, summed over the topic's partitions, per group. */
export async function groupLags(admin: Admin, groups: GroupOnPath[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const g of groups) {
    const [committed, ends] = await Promise.all([
      admin.fetchOffsets({ groupId: g.groupId, topics: [g.topic] }),
      admin.fetchTopicOffsets(g.topic),
    ]);
    const parts = committed.find((c) => c.topic === g.topic)?.partitions ?? [];
    out[g.groupId] = ends.reduce(
      (sum, e) => sum + computeLag(e.high, e.low, parts.find((p) => p.partition === e.partition)?.offset ?? '-1'),
      0,
    );
  }
  return out;
}

/** Samples the lag of the groups on the path every `everyMs` (kafkajs admin), keeping the maximum per group. */
export class LagSampler {
  private readonly admin: Admin;
  private groups: GroupOnPath[] = [];
  private max: Record<string, number> = {};
  private last: Record<string, number> = {};
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private series: Array<Record<string, number>> = [];
  samples = 0;

  constructor(
    brokers: string[],
    private readonly path: GroupOnPath[],
  ) {
    this.admin = new Kafka({ ...kafkaSecurityFromEnv(), clientId: 'bench-freshness-lag', brokers, logLevel: logLevel.NOTHING }).admin();
  }

  async connect(): Promise<GroupOnPath[]> {
    await this.admin.connect();
    this.groups = this.path;
    return this.groups;
  }

  /** Starts sampling afresh (maxima reset). */
  start(everyMs = 1000): void {
    this.stop();
    this.max = Object.fromEntries(this.groups.map((g) => [g.groupId, 0]));
    this.samples = 0;
    this.series = [];
    this.timer = setInterval(() => void this.sample(), everyMs);
  }

  stop(): Record<string, number> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    return { ...this.max };
  }

  async sample(): Promise<Record<string, number>> {
    if (this.busy) return this.last;
    this.busy = true;
    try {
      this.last = await groupLags(this.admin, this.groups);
      this.samples++;
      if (this.timer) this.series.push(this.last);
      for (const [g, lag] of Object.entries(this.last)) this.max[g] = Math.max(this.max[g] ?? 0, lag);
    } catch {
      /* a failed sample keeps the previous values */
    } finally {
      this.busy = false;
    }
    return this.last;
  }

  /**
   * Whether lag grew over the sampled run: each group's mean lag over the first and the last third of the samples
   * taken since `start`. A consumer that keeps up has about the same lag at the end as at the start; one that does not
   * ends with a larger one (its lag grows by input rate minus its rate, every second).
   */
  trend(): Record<string, { first: number; last: number }> {
    const third = Math.floor(this.series.length / 3);
    const mean = (rows: Array<Record<string, number>>, g: string) =>
      rows.length === 0 ? 0 : Math.round(rows.reduce((a, r) => a + (r[g] ?? 0), 0) / rows.length);
    const first = this.series.slice(0, third);
    const last = this.series.slice(this.series.length - third);
    return Object.fromEntries(this.groups.map((g) => [g.groupId, { first: mean(first, g.groupId), last: mean(last, g.groupId) }]));
  }

  /** Waits until every group's lag is 0 (sampling every 250 ms), at most `timeoutMs`; true when it caught up. */
  async waitDrained(timeoutMs: number): Promise<{ drained: boolean; ms: number; lag: Record<string, number> }> {
    const t0 = Date.now();
    for (;;) {
      const lag = await groupLags(this.admin, this.groups).catch(() => undefined);
      if (lag) for (const [g, n] of Object.entries(lag)) this.max[g] = Math.max(this.max[g] ?? 0, n);
      if (lag && Object.values(lag).every((n) => n === 0)) return { drained: true, ms: Date.now() - t0, lag };
      if (Date.now() - t0 >= timeoutMs) return { drained: false, ms: Date.now() - t0, lag: lag ?? {} };
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async close(): Promise<void> {
    this.stop();
    await this.admin.disconnect();
  }
}
