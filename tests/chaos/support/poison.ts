/**
 * Scenario 5 of issue #14 on the analytics pipeline: a garbage record and a schema-incompatible one (a valid envelope
 * carrying another contract's message) on each topic the pipeline consumes (raw events: the stream processor;
 * aggregates: insights), then a batch of valid events through the gateway. Each poison record is dead-lettered once with
 * a reason, the consumers keep going (the valid batch reaches the read model), and insights' letters replayed to their
 * topic come back to the DLQ (poison stays poison; nothing crashes). Internal topics (the processor's changelog and
 * repartition topic) are written only by the processor in its transactions and their ACLs admit no other writer.
 */
import { analyticsV1, eventTypeName } from '@tessera/contracts';
import {
  buildEnvelope,
  createProducer,
  decodeEnvelope,
  encodeEnvelope,
  readTopicSnapshot,
  replayDlq,
  summariseDeadLetter,
} from '@tessera/kafka';
import type { Kafka } from 'kafkajs';
import { Client } from 'pg';
import type { PipelinePlatform } from '../../e2e/support/pipeline-platform';
import { waitFor } from '../../e2e/support/platform';
import { runEventLoad } from './event-load';
import type { Invariant } from './invariants';
import { groupLag } from './lag';
import { writeScenarioResult } from './report';

export interface PoisonOptions {
  name: string;
  platform: PipelinePlatform;
  kafka: Kafka;
  /** Per consumed topic: a valid envelope of the wrong contract (its type name and encoded message). */
  incompatible: Record<'raw' | 'aggregates', { type: string; data: Uint8Array }>;
  /** The reason codes the processor must give the two poison records, garbage first. */
  processorReasonCodes: string[];
}

const GARBAGE = Buffer.from('not an envelope \u0000\u00ff\u00fe', 'latin1');
const check = (name: string, ok: boolean, detail: string): Invariant => ({ name, ok, detail });

async function caughtUp(p: PipelinePlatform): Promise<void> {
  await waitFor(
    'processor and insights caught up',
    async () =>
      (await groupLag(p.admin, p.groups.processor, p.topics.raw)) + (await groupLag(p.admin, p.groups.insights, p.topics.aggregates)) === 0,
    90_000,
  );
}

export async function runPoisonScenario(o: PoisonOptions): Promise<{ invariants: Invariant[] }> {
  const { platform, kafka } = o;
  const letters = async () => {
    const processor: string[] = [];
    const insights: { errorCode: string; reason: string; group: string }[] = [];
    await readTopicSnapshot(kafka, platform.topics.dlq, 'chaos-verify.', (m) =>
      processor.push(analyticsV1.DeadLetter.decode(decodeEnvelope(m.value).data).reasonCode),
    );
    await readTopicSnapshot(kafka, platform.topics.aggregatesDlq, 'chaos-verify.', (m) => {
      const s = summariseDeadLetter(m.headers);
      insights.push({ errorCode: s.errorCode, reason: s.reason, group: s.consumerGroup });
    });
    return { processor, insights };
  };
  const before = await letters();
  const envelope = (x: { type: string; data: Uint8Array }) =>
    encodeEnvelope(buildEnvelope({ type: x.type, subject: 'poison', data: x.data }, 'chaos-poison', {}));
  const producer = createProducer(kafka);
  await producer.connect();
  try {
    await producer.send({
      topic: platform.topics.raw,
      acks: -1,
      messages: [
        { key: 'demo/poison', value: GARBAGE },
        { key: 'demo/poison', value: envelope(o.incompatible.raw) },
      ],
    });
    await producer.send({
      topic: platform.topics.aggregates,
      acks: -1,
      messages: [
        { key: 'poison-1', value: GARBAGE },
        { key: 'poison-2', value: envelope(o.incompatible.aggregates) },
      ],
    });
  } finally {
    await producer.disconnect();
  }
  // Valid events after the poison: they must reach the read model.
  const apiKey = platform.creds.apiKeys['demo'] ?? '';
  const load = await runEventLoad({
    gateway: platform.gateway,
    tenant: 'demo',
    apiKey,
    clients: 1,
    durationMs: 500,
    rate: 200,
    batchSize: 50,
    settleMs: 30_000,
    seed: 15,
  });
  await caughtUp(platform);
  const after = await letters();
  const newProcessor = after.processor.slice(before.processor.length);
  const newInsights = after.insights.slice(before.insights.length);

  // Distinct valid events on the raw topic vs what the read model counts (10 s totals, every metric).
  const ids = new Set<string>();
  await readTopicSnapshot(kafka, platform.topics.raw, 'chaos-verify.', (m) => {
    try {
      const e = decodeEnvelope(m.value);
      if (e.type === eventTypeName.AnalyticsEvent) ids.add(analyticsV1.AnalyticsEvent.decode(e.data).eventId);
    } catch {
      // the garbage record
    }
  });
  const db = new Client({ connectionString: platform.insightsDbUrl });
  await db.connect();
  let counted = 0;
  try {
    const r = await db.query<{ n: string }>(
      "SELECT coalesce(sum(count), 0)::text AS n FROM window_aggregates WHERE dimension_key = '' AND window_size_seconds = 10",
    );
    counted = Number(r.rows[0]?.n ?? 0);
  } finally {
    await db.end();
  }

  // Replay insights' letters: back to the aggregates topic, dead-lettered again with a fresh reason.
  const replay = await replayDlq({ kafka, dlqTopic: platform.topics.aggregatesDlq, groupPrefix: 'chaos-verify.' });
  await caughtUp(platform);
  const replayed = (await letters()).insights.length - after.insights.length;

  const acked = load.batches.flatMap((b) => b.accepted);
  const invariants: Invariant[] = [
    check(
      'the processor dead-lettered both raw poison records with their reasons',
      JSON.stringify(newProcessor) === JSON.stringify(o.processorReasonCodes),
      `${platform.processor}: ${newProcessor.join(', ') || 'no letters'} (expected ${o.processorReasonCodes.join(', ')})`,
    ),
    check(
      'insights dead-lettered both aggregate poison records with a reason and its group',
      newInsights.length === 2 && newInsights.every((l) => l.errorCode !== '' && l.reason !== '' && l.group === platform.groups.insights),
      newInsights.map((l) => `${l.errorCode} (${l.reason.slice(0, 60)})`).join('; ') || 'no letters',
    ),
    check(
      'valid events after the poison reach the read model (the consumers kept going)',
      acked.length > 0 && acked.every((id) => ids.has(id)) && counted === ids.size,
      `${acked.length} sent after the poison; ${ids.size} distinct events on the raw topic, ${counted} counted by the read model`,
    ),
    check(
      'replayed letters come back to the DLQ (poison stays poison, nothing crashes)',
      replay.replayed === newInsights.length + before.insights.length && replayed === replay.replayed,
      `${replay.replayed} replayed, ${replayed} dead-lettered again`,
    ),
  ];
  writeScenarioResult({
    scenario: o.name,
    at: new Date().toISOString(),
    load: `2 poison records on each consumed topic (raw events, aggregates), then ${load.batches.length} valid batch(es) through the gateway (${platform.processor})`,
    faults: [
      'garbage bytes and a valid envelope of the wrong contract on the raw-events topic and on the aggregates topic',
      `insights' DLQ replayed to its topic`,
    ],
    operations: {
      total: load.batches.length,
      acknowledged: load.batches.filter((b) => b.outcome === 'acked').length,
      refused: 0,
      lost: acked.filter((id) => !ids.has(id)).length,
      duplicated: 0,
      notCompleted: load.batches.filter((b) => b.outcome === 'unsettled').length,
    },
    answers: load.statuses,
    observations: [`processor letters: ${newProcessor.join(', ')}`, `insights letters: ${newInsights.map((l) => l.errorCode).join(', ')}`],
    invariants,
  });
  return { invariants };
}
