import { analyticsV1, eventTypeName } from '@tessera/contracts';
import { buildEnvelope, encodeEnvelope, envelopeHeaders, injectTraceContext } from '@tessera/kafka';
import type { Message } from 'kafkajs';
import type { EmittedAggregate } from '../processing/partition-state';
import type { ChangelogEntry, DeadLetterOut } from '../processing/processing.types';

export const PRODUCER_NAME = 'stream-processor';

/**
 * analytics.aggregates.v1 record: key = window_key, envelope id = `${window_key}#${revision}` (consumers dedupe on it).
 * `traceId`: the emitting step's trace (see batch-trace.ts); the envelope's traceparent is the active span's.
 */
export function aggregateMessage(a: EmittedAggregate, now: Date, traceId = ''): Message {
  const message = analyticsV1.WindowAggregate.fromPartial({
    tenantId: a.id.tenantId,
    streamId: a.id.streamId,
    metric: a.id.metric,
    dimensionKey: a.id.dimKey,
    dimensionValue: a.id.dimValue,
    windowStart: new Date(a.id.startMs),
    windowEnd: new Date(a.id.startMs + a.id.sizeMs),
    windowSizeSeconds: BigInt(a.id.sizeMs / 1000),
    windowSlideSeconds: BigInt(a.id.slideMs / 1000),
    count: BigInt(a.summary.count),
    sum: a.summary.sum,
    min: a.summary.min,
    max: a.summary.max,
    p50Approx: a.summary.p50,
    p95Approx: a.summary.p95,
    p99Approx: a.summary.p99,
    distinctCount: BigInt(a.summary.distinct),
    lateEvents: BigInt(a.late),
    revision: BigInt(a.revision),
    final: a.final,
    windowKey: a.windowKey,
    computedAt: now,
    producer: PRODUCER_NAME,
    traceId,
    maxEventTime: a.summary.maxEventTimeMs === undefined ? undefined : new Date(a.summary.maxEventTimeMs),
  });
  const envelope = buildEnvelope(
    {
      type: eventTypeName.WindowAggregate,
      subject: a.windowKey,
      id: `${a.windowKey}#${a.revision}`,
      time: new Date(a.id.startMs + a.id.sizeMs),
      message,
      codec: analyticsV1.WindowAggregate,
    },
    PRODUCER_NAME,
    injectTraceContext(),
  );
  return { key: a.windowKey, value: encodeEnvelope(envelope), headers: envelopeHeaders(envelope, { 'tenant-id': a.id.tenantId }) };
}

/** analytics.events.dlq.v1 record: a DeadLetter envelope keeping the original bytes for replay. */
export function deadLetterMessage(d: DeadLetterOut, source: { topic: string; partition: number }, now: Date): Message {
  const message = analyticsV1.DeadLetter.fromPartial({
    topic: source.topic,
    partition: source.partition,
    offset: BigInt(d.offset),
    reasonCode: d.code,
    reason: d.reason.slice(0, 500),
    attempts: 1,
    payload: d.value ? new Uint8Array(d.value) : new Uint8Array(),
    failedAt: now,
  });
  const envelope = buildEnvelope(
    {
      type: eventTypeName.DeadLetter,
      subject: `${source.topic}/${source.partition}/${d.offset}`,
      id: `${source.topic}/${source.partition}/${d.offset}`,
      message,
      codec: analyticsV1.DeadLetter,
    },
    PRODUCER_NAME,
    {},
  );
  return { key: d.key, value: encodeEnvelope(envelope), headers: envelopeHeaders(envelope, { 'dlq-reason-code': d.code }) };
}

export function changelogMessage(e: ChangelogEntry, partition: number): Message {
  return { key: e.key, value: e.value === undefined ? null : e.value, partition };
}

/** Splits messages into chunks under `maxBytes` so no produce request exceeds the broker's limit. */
export function chunkBySize(messages: Message[], maxBytes = 512 * 1024): Message[][] {
  const chunks: Message[][] = [];
  let current: Message[] = [];
  let size = 0;
  for (const m of messages) {
    const s = byteLength(m.value) + byteLength(m.key) + 64;
    if (current.length > 0 && size + s > maxBytes) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(m);
    size += s;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

function byteLength(v: Message['value'] | Message['key']): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'string' ? Buffer.byteLength(v) : v.length;
}
