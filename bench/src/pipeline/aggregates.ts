import { analyticsV1, eventTypeName } from '@tessera/contracts';
import { buildEnvelope, encodeEnvelope, envelopeHeaders } from '@tessera/kafka';
import type { Kafka, Message } from 'kafkajs';

const STREAMS = ['web-0', 'web-1', 'web-2', 'web-3'];
const METRICS = ['page.view', 'click', 'checkout', 'signup'];
const DIMS: Array<[string, string]> = [
  ['', ''],
  ...['DE', 'FR', 'US', 'BR', 'JP', 'IN', 'GB', 'ES'].map((c): [string, string] => ['country', c]),
  ...['free', 'pro', 'enterprise'].map((p): [string, string] => ['plan', p]),
];
const SIZE_S = 10;

/**
 * One aggregate revision as the stream processor publishes it (analytics.aggregates.v1: key = window key, envelope id
 * `window_key#revision`), for window `k` of tenant `tenant`: 4 streams x 4 metrics x 12 dimension values per 10 s
 * window start, then the next start.
 */
export function aggregateRecord(tenant: string, k: number, revision: number, baseMs: number): Message {
  const per = STREAMS.length * METRICS.length * DIMS.length;
  const streamId = STREAMS[k % STREAMS.length] as string;
  const metric = METRICS[Math.floor(k / STREAMS.length) % METRICS.length] as string;
  const [dimKey, dimValue] = DIMS[Math.floor(k / (STREAMS.length * METRICS.length)) % DIMS.length] as [string, string];
  const startMs = baseMs + Math.floor(k / per) * SIZE_S * 1000;
  const windowKey = `${tenant}|${streamId}|${metric}|${dimKey}=${dimValue}|${SIZE_S}|${SIZE_S}|${startMs}`;
  const count = revision * 3;
  const message = analyticsV1.WindowAggregate.fromPartial({
    tenantId: tenant,
    streamId,
    metric,
    dimensionKey: dimKey,
    dimensionValue: dimValue,
    windowStart: new Date(startMs),
    windowEnd: new Date(startMs + SIZE_S * 1000),
    windowSizeSeconds: BigInt(SIZE_S),
    windowSlideSeconds: BigInt(SIZE_S),
    count: BigInt(count),
    sum: count * 41.5,
    min: 1,
    max: 999,
    p50Approx: 480,
    p95Approx: 950,
    p99Approx: 990,
    distinctCount: BigInt(Math.min(count, 700)),
    lateEvents: 0n,
    revision: BigInt(revision),
    final: false,
    windowKey,
    computedAt: new Date(),
    producer: 'bench',
    traceId: '',
    maxEventTime: new Date(startMs + 5_000),
  });
  const envelope = buildEnvelope(
    {
      type: eventTypeName.WindowAggregate,
      subject: windowKey,
      id: `${windowKey}#${revision}`,
      time: new Date(startMs + SIZE_S * 1000),
      message,
      codec: analyticsV1.WindowAggregate,
    },
    'bench',
    {},
  );
  return { key: windowKey, value: encodeEnvelope(envelope), headers: envelopeHeaders(envelope, { 'tenant-id': tenant }) };
}

/**
 * `keys` windows x `revisions` revisions each, in the order a live processor emits them: revision 1 of every window,
 * then revision 2, ... A fetched batch then holds (almost) only distinct keys, the worst case for a consumer that keeps
 * the newest revision per key of a batch. acks=-1, 1 000 records (~0.5 MB) per request.
 */
export async function produceAggregateBacklog(
  kafka: Kafka,
  topic: string,
  tenant: string,
  keys: number,
  revisions: number,
): Promise<{ seconds: number; bytes: number }> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const t0 = Date.now();
  const baseMs = Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000;
  let bytes = 0;
  let batch: Message[] = [];
  try {
    for (let r = 1; r <= revisions; r++) {
      for (let k = 0; k < keys; k++) {
        const m = aggregateRecord(tenant, k, r, baseMs);
        bytes += (m.value as Buffer).length;
        batch.push(m);
        if (batch.length === 1_000) {
          await producer.send({ topic, acks: -1, messages: batch });
          batch = [];
        }
      }
    }
    if (batch.length > 0) await producer.send({ topic, acks: -1, messages: batch });
  } finally {
    await producer.disconnect();
  }
  return { seconds: (Date.now() - t0) / 1000, bytes };
}
