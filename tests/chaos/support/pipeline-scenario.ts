/**
 * One analytics-pipeline chaos scenario: bounded event load through the gateway, a fault injected while it runs, then
 * (once the processor and insights have caught up) the invariants read from the topics and the insights database:
 * nothing acknowledged lost, no aggregate revision committed twice, the aggregates equal an offline computation over
 * the raw topic, the read model holds the newest revision of every window, nothing dead-lettered.
 */
import { analyticsV1 } from '@tessera/contracts';
import { decodeEnvelope, readTopicSnapshot } from '@tessera/kafka';
import type { Kafka } from 'kafkajs';
import { Client } from 'pg';
import type { PipelinePlatform } from '../../e2e/support/pipeline-platform';
import { waitFor } from '../../e2e/support/platform';
/* eslint-disable @nx/enforce-module-boundaries -- the reference computation and the decoder are the stream processor's own: the invariant checks its output against them */
import { aggregationOptions } from '../../../services/stream-processor/src/composition';
import { streamProcessorConfigSchema } from '../../../services/stream-processor/src/config';
import { decodeRawEvent } from '../../../services/stream-processor/src/processing/raw-event.decoder';
import type { NormalizedEvent } from '../../../services/stream-processor/src/processing/processing.types';
import { TenantMetadata } from '../../../services/stream-processor/src/processing/tenant-metadata';
import { offlineAggregates } from '../../../services/stream-processor/test/support/offline-aggregates';
/* eslint-enable @nx/enforce-module-boundaries */
import { type EventLoadResult, runEventLoad } from './event-load';
import type { Invariant } from './invariants';
import { groupLag } from './lag';
import { type ScenarioResult, writeScenarioResult } from './report';

export interface PipelineScenarioOptions {
  name: string;
  platform: PipelinePlatform;
  /** A client on the cluster the platform uses (reads the topics). */
  kafka: Kafka;
  clients: number;
  loadMs: number;
  /** Events per second over all clients. */
  rate: number;
  fault: (elapsed: () => number) => Promise<string[]>;
}

export interface PipelineOutcome {
  load: EventLoadResult;
  invariants: Invariant[];
  result: ScenarioResult;
}

const check = (name: string, ok: boolean, detail: string): Invariant => ({ name, ok, detail });

export async function runPipelineScenario(o: PipelineScenarioOptions): Promise<PipelineOutcome> {
  const { platform } = o;
  const apiKey = platform.creds.apiKeys['demo'];
  if (!apiKey) throw new Error('the e2e credentials have no key for tenant demo');
  const started = Date.now();
  const elapsed = () => Date.now() - started;
  const [load, faults] = await Promise.all([
    runEventLoad({
      gateway: platform.gateway,
      tenant: 'demo',
      apiKey,
      clients: o.clients,
      durationMs: o.loadMs,
      rate: o.rate,
      batchSize: 50,
      settleMs: 45_000,
      seed: 14,
    }),
    o.fault(elapsed),
  ]);

  // Caught up: every raw record committed by the processor, every aggregate by insights, twice in a row (the
  // processor may still emit final revisions when its watermark moves).
  let quiet = 0;
  await waitFor(
    'processor and insights caught up',
    async () => {
      const behind =
        (await groupLag(platform.admin, platform.groups.processor, platform.topics.raw)) +
        (await groupLag(platform.admin, platform.groups.insights, platform.topics.aggregates));
      quiet = behind === 0 ? quiet + 1 : 0;
      return quiet >= 3;
    },
    120_000,
  );

  const tenants = TenantMetadata.parse(streamProcessorConfigSchema.parse({}).STREAM_PROCESSOR_TENANT_METADATA);
  const raw: NormalizedEvent[] = [];
  let undecodable = 0;
  await readTopicSnapshot(o.kafka, platform.topics.raw, 'chaos-verify.', (m) => {
    const d = decodeRawEvent(m.value, tenants);
    if (d.kind === 'event') raw.push(d.event);
    else undecodable++;
  });
  const revisions = new Map<string, number>();
  const latest = new Map<string, analyticsV1.WindowAggregate>();
  await readTopicSnapshot(o.kafka, platform.topics.aggregates, 'chaos-verify.', (m) => {
    const agg = analyticsV1.WindowAggregate.decode(decodeEnvelope(m.value).data);
    const id = `${agg.windowKey}#${agg.revision}`;
    revisions.set(id, (revisions.get(id) ?? 0) + 1);
    const prev = latest.get(agg.windowKey);
    if (!prev || prev.revision < agg.revision) latest.set(agg.windowKey, agg);
  });
  let dead = 0;
  await readTopicSnapshot(o.kafka, platform.topics.dlq, 'chaos-verify.', () => void dead++);

  const acked = load.batches.flatMap((b) => b.accepted);
  const sent = new Set(load.batches.flatMap((b) => b.ids));
  const onTopic = new Set(raw.map((e) => e.eventId));
  const missing = acked.filter((id) => !onTopic.has(id));
  const foreign = [...onTopic].filter((id) => !sent.has(id));
  const twice = [...revisions.values()].filter((n) => n > 1).length;

  // The reference: one pass over the raw topic, first occurrence of each event id wins; every field is compared, for
  // the Go processor too (it runs the TS sketches since issue #15).
  const offline = offlineAggregates(raw, aggregationOptions(streamProcessorConfigSchema.parse({})));
  const differ: string[] = [];
  for (const [key, want] of offline) {
    const got = latest.get(key);
    const a = got && {
      count: Number(got.count),
      sum: got.sum,
      min: got.min,
      max: got.max,
      p50: got.p50Approx,
      p95: got.p95Approx,
      p99: got.p99Approx,
      distinct: Number(got.distinctCount),
      late: Number(got.lateEvents),
    };
    const b = {
      count: want.count,
      sum: want.sum,
      min: want.min,
      max: want.max,
      p50: want.p50,
      p95: want.p95,
      p99: want.p99,
      distinct: want.distinct,
      late: 0,
    };
    if (JSON.stringify(a) !== JSON.stringify(b)) differ.push(key);
  }
  const unexpected = [...latest.keys()].filter((k) => !offline.has(k));

  const db = new Client({ connectionString: platform.insightsDbUrl });
  await db.connect();
  let stale: string[] = [];
  let rows = 0;
  try {
    const result = await db.query<{ window_key: string; revision: string; count: string }>(
      'SELECT window_key, revision::text, count::text FROM window_aggregates',
    );
    rows = result.rowCount ?? 0;
    const byKey = new Map(result.rows.map((r) => [r.window_key, r]));
    stale = [...latest]
      .filter(([k, agg]) => byKey.get(k)?.revision !== String(agg.revision) || byKey.get(k)?.count !== String(agg.count))
      .map(([k]) => k);
  } finally {
    await db.end();
  }

  const batches = load.batches;
  const unsettled = batches.filter((b) => b.outcome === 'unsettled');
  const invariants: Invariant[] = [
    check(
      'every acknowledged event is on the raw topic',
      missing.length === 0,
      `${acked.length} acknowledged, ${acked.length - missing.length} found${missing.length ? `, missing e.g. ${missing.slice(0, 3).join(', ')}` : ''}`,
    ),
    check(
      'nothing on the raw topic that no client sent',
      foreign.length === 0 && undecodable === 0,
      `${onTopic.size} distinct event ids on the topic (${raw.length} records), ${foreign.length} unknown, ${undecodable} undecodable`,
    ),
    check(
      'every batch completed (acknowledged or definitely refused)',
      unsettled.length === 0,
      `${unsettled.length} of ${batches.length} never completed`,
    ),
    check(
      'no aggregate revision committed twice (exactly-once output)',
      twice === 0,
      `${revisions.size} revisions of ${latest.size} windows, ${twice} committed more than once`,
    ),
    check(
      'aggregates equal the offline computation over the raw topic (count, sum, min, max, percentiles, distinct, no late)',
      differ.length === 0 && unexpected.length === 0 && latest.size === offline.size,
      `${offline.size} windows offline, ${latest.size} emitted, ${differ.length} differ${differ.length ? ` (e.g. ${differ[0]})` : ''}, ${unexpected.length} unexpected`,
    ),
    check(
      'the insights read model holds the newest revision of every window',
      stale.length === 0 && rows === latest.size,
      `${rows} rows for ${latest.size} windows, ${stale.length} stale${stale.length ? ` (e.g. ${stale[0]})` : ''}`,
    ),
    check('no event dead-lettered (every record was valid)', dead === 0, `${dead} letter(s) on ${platform.topics.dlq}`),
  ];
  const ackedBatches = batches.filter((b) => b.outcome === 'acked');
  const result: ScenarioResult = {
    scenario: o.name,
    at: new Date().toISOString(),
    load: `${o.clients} clients, ${o.loadMs / 1000} s of events at ${o.rate}/s in batches of 50 through the gateway (${platform.processor}), retries with the same event ids`,
    faults,
    operations: {
      total: batches.length,
      acknowledged: ackedBatches.length,
      refused: batches.filter((b) => b.outcome === 'refused').length,
      lost: missing.length,
      duplicated: twice,
      notCompleted: unsettled.length,
    },
    answers: load.statuses,
    observations: [
      'operations are event batches (50 events each); lost = acknowledged events missing from the raw topic; duplicated = aggregate revisions committed more than once',
      `${batches.filter((b) => b.retried.length > 0).length} batch(es) needed retries; most attempts for one: ${Math.max(0, ...batches.map((b) => b.attempts))}`,
      `503 answers without Retry-After: ${load.unavailableWithoutRetryAfter}`,
      `${acked.length} events acknowledged, ${onTopic.size} distinct on the raw topic, ${raw.length - onTopic.size} stored twice by retries (dropped by the processor's dedupe)`,
    ],
    invariants,
  };
  writeScenarioResult(result);
  return { load, invariants, result };
}
