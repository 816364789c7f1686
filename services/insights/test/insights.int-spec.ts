/**
 * insights against the real broker and Postgres: aggregates (with duplicates, an older revision after a
 * newer one, an aborted transaction and an invalid message) go to a per-run topic; the service (own group,
 * throwaway database) builds the read model, answers GetAggregates/GetTopN and streams upserts live.
 * Reads carry a real API key of TENANT (or a dev-issuer JWT); other tenants' data is refused.
 */
import { randomUUID } from 'node:crypto';
import { credentials, type ClientReadableStream, Metadata } from '@grpc/grpc-js';
import { analyticsV1, eventTypeName } from '@tessera/contracts';
import { AppError, fromGrpcError } from '@tessera/errors';
import { createKafka, deleteConsumerGroups, EventProducer, type EventTransaction } from '@tessera/kafka';
import { createLogger } from '@tessera/telemetry';
import { type Admin, type Kafka, Partitioners } from 'kafkajs';
import { AggregatesConsumer } from '../src/aggregates/aggregates.consumer';
import { StreamAggregatesGrpc } from '../src/live/stream-aggregates.grpc';
import { type Harness, startInsights } from './support/harness';

jest.setTimeout(90_000);
process.env['LOG_LEVEL'] ??= 'warn';

const BROKERS = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092').split(',');
const RUN = randomUUID().slice(0, 8);
const TOPIC = `test.insights-aggregates.${RUN}`;
const GROUP = `insights.test-${RUN}`;
const TENANT = `t${RUN}`;
const BASE = Date.UTC(2026, 0, 1, 12, 0, 0);
const logger = createLogger('insights-test');

let kafka: Kafka;
let admin: Admin;
let producer: EventProducer;
let txProducer: EventProducer;
let h: Harness;
let client: analyticsV1.InsightsServiceClient;
/** x-api-key of TENANT, sent with every read unless a test passes other metadata. */
let tenantKey: Metadata;

interface Spec {
  metric?: string;
  dim?: [string, string];
  size?: number;
  slide?: number;
  startOffsetS?: number;
  revision: number;
  count: number;
  sum: number;
  tenant?: string;
  keyTenant?: string;
}

/** A distinct 32-hex trace id per window start and revision, to see which revision's trace the read model kept. */
const traceOf = (startOffsetS: number, revision: number) =>
  `${startOffsetS.toString(16).padStart(16, '0')}${revision.toString(16).padStart(16, '0')}`;
/** max_event_time (ms after the window start) per revision, to see which revision's the read model kept; revision 0 sends none. */
const maxEventOffsetOf = (revision: number) => (revision > 0 ? revision * 100 : undefined);

function aggregate(s: Spec): analyticsV1.WindowAggregate {
  const tenant = s.tenant ?? TENANT;
  const metric = s.metric ?? 'page.view';
  const [dk, dv] = s.dim ?? ['', ''];
  const size = s.size ?? 10;
  const slide = s.slide ?? size;
  const start = BASE + (s.startOffsetS ?? 0) * 1000;
  return analyticsV1.WindowAggregate.fromPartial({
    tenantId: tenant,
    streamId: 'web',
    metric,
    dimensionKey: dk,
    dimensionValue: dv,
    windowSizeSeconds: BigInt(size),
    windowSlideSeconds: BigInt(slide),
    windowStart: new Date(start),
    windowEnd: new Date(start + size * 1000),
    count: BigInt(s.count),
    sum: s.sum,
    min: 1,
    max: s.sum,
    p50Approx: 1,
    p95Approx: 2,
    p99Approx: 3,
    distinctCount: 1n,
    revision: BigInt(s.revision),
    final: false,
    producer: 'test',
    computedAt: new Date(),
    traceId: traceOf(s.startOffsetS ?? 0, s.revision),
    maxEventTime: s.revision > 0 ? new Date(start + (maxEventOffsetOf(s.revision) ?? 0)) : undefined,
    windowKey: `${s.keyTenant ?? tenant}|web|${metric}|${dk}=${dv}|${size}|${slide}|${start}`,
  });
}

const PARTITIONS = 3;
/** The producer's own partitioner (keys hash the same way), to know which partition each record went to. */
const partitioner = Partitioners.DefaultPartitioner();
const partitionOf = (key: string) =>
  partitioner({
    topic: TOPIC,
    partitionMetadata: Array.from({ length: PARTITIONS }, (_, partitionId) => ({
      partitionId,
      leader: 0,
      replicas: [0],
      isr: [0],
      partitionErrorCode: 0,
    })),
    message: { key, value: null },
  });
/**
 * Offsets this test has written per partition: one per record plus one per transaction marker. `consumed()`
 * waits until the topic's end reaches them, because the broker writes a transaction's markers after
 * `commit()`/`abort()` returned; until then the read_committed end offset still stops before the transaction.
 */
const written = new Map<number, number>();
let openTransaction: Set<number> | undefined;

async function publish(p: EventProducer | { publish: EventProducer['publish'] }, a: analyticsV1.WindowAggregate): Promise<void> {
  await p.publish(TOPIC, {
    id: `${a.windowKey}#${a.revision}`,
    type: eventTypeName.WindowAggregate,
    subject: a.windowKey,
    key: a.windowKey,
    message: a,
    codec: analyticsV1.WindowAggregate,
  });
  const partition = partitionOf(a.windowKey);
  written.set(partition, (written.get(partition) ?? 0) + 1);
  openTransaction?.add(partition);
}

/** Runs `work` in one Kafka transaction of txProducer, counting the marker it leaves in each partition it wrote to. */
async function inTransaction(work: (tx: EventTransaction) => Promise<void>): Promise<void> {
  const touched = new Set<number>();
  openTransaction = touched;
  try {
    await txProducer.transaction(work);
  } finally {
    openTransaction = undefined;
    for (const partition of touched) written.set(partition, (written.get(partition) ?? 0) + 1);
  }
}

/** Waits until the group committed everything this test wrote to the topic (the consumer commits after each message). */
async function consumed(): Promise<void> {
  const deadline = Date.now() + 45_000;
  for (;;) {
    const ends = await admin.fetchTopicOffsets(TOPIC);
    const [committed] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
    const done = ends.every((e) => {
      const c = committed?.partitions.find((p) => p.partition === e.partition);
      const high = Number(e.high);
      if (high < (written.get(e.partition) ?? 0)) return false; // markers not written yet
      // A transaction marker occupies an offset the consumer never sees; committing past it moves to high.
      return Number(c?.offset ?? -1) >= high || high === 0;
    });
    if (done) return;
    if (Date.now() > deadline) throw new Error('consumer did not catch up');
    await new Promise((r) => setTimeout(r, 250));
  }
}

function call<Req, Res>(
  method: (req: Req, md: Metadata, cb: (err: Error | null, res: Res) => void) => unknown,
  req: Req,
  md: Metadata,
): Promise<Res> {
  return new Promise((resolve, reject) => method.call(client, req, md, (err, res) => (err ? reject(fromGrpcError(err)) : resolve(res))));
}

const getAggregates = (req: Partial<analyticsV1.GetAggregatesRequest>, md = tenantKey) =>
  call<analyticsV1.GetAggregatesRequest, analyticsV1.GetAggregatesResponse>(
    client.getAggregates,
    analyticsV1.GetAggregatesRequest.fromPartial(req),
    md,
  );
const getTopN = (req: Partial<analyticsV1.GetTopNRequest>, md = tenantKey) =>
  call<analyticsV1.GetTopNRequest, analyticsV1.GetTopNResponse>(client.getTopN, analyticsV1.GetTopNRequest.fromPartial(req), md);

const RANGE = { from: new Date(BASE - 60_000), to: new Date(BASE + 600_000) };

let stream: ClientReadableStream<analyticsV1.StreamAggregatesResponse>;
const streamed: analyticsV1.WindowAggregate[] = [];

beforeAll(async () => {
  kafka = createKafka({ clientId: `insights-test-${RUN}`, brokers: BROKERS, logger });
  admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      { topic: TOPIC, numPartitions: PARTITIONS },
      { topic: `${TOPIC}.dlq`, numPartitions: 1 },
    ],
    waitForLeaders: true,
  });
  producer = new EventProducer({ kafka, source: 'stream-processor', logger });
  await producer.connect();
  txProducer = new EventProducer({ kafka, source: 'stream-processor', logger, transactionalId: `insights-test-${RUN}` });
  await txProducer.connect();
  h = await startInsights({ KAFKA_BROKERS: BROKERS.join(','), INSIGHTS_CONSUMER_GROUP: GROUP, INSIGHTS_AGGREGATES_TOPIC: TOPIC });
  await h.app.get(AggregatesConsumer).joined;
  client = new analyticsV1.InsightsServiceClient(h.addr, credentials.createInsecure());
  tenantKey = h.auth.apiKey(h.auth.issuer.createApiKey(TENANT).key).metadata;
  stream = client.streamAggregates({ tenantId: TENANT, streamId: '', metric: 'page.view' }, tenantKey);
  stream.on('data', (m: analyticsV1.StreamAggregatesResponse) => m.aggregate && streamed.push(m.aggregate));
  stream.on('error', () => undefined); // the cancellation at the end surfaces as CANCELLED
  await new Promise<void>((resolve) => stream.once('metadata', () => resolve()));
});

afterAll(async () => {
  stream?.cancel();
  client?.close();
  await h?.close();
  await producer?.disconnect();
  await txProducer?.disconnect();
  await admin?.deleteTopics({ topics: [TOPIC, `${TOPIC}.dlq`] }).catch(() => undefined);
  await admin?.disconnect();
  await deleteConsumerGroups(kafka, [GROUP]);
});

describe('insights read model', () => {
  it('keeps the newest revision whatever the order and duplication of deliveries', async () => {
    // Window 0: revisions 1, 2, 2 again (duplicate), then 1 again (older after newer).
    await publish(producer, aggregate({ revision: 1, count: 1, sum: 10 }));
    await publish(producer, aggregate({ revision: 2, count: 2, sum: 20 }));
    await publish(producer, aggregate({ revision: 2, count: 2, sum: 20 }));
    await publish(producer, aggregate({ revision: 1, count: 1, sum: 10 }));
    // Window +10 s arrives newest-first.
    await publish(producer, aggregate({ startOffsetS: 10, revision: 3, count: 5, sum: 50 }));
    await publish(producer, aggregate({ startOffsetS: 10, revision: 0, count: 1, sum: 1 }));
    await publish(producer, aggregate({ startOffsetS: 20, revision: 0, count: 7, sum: 70 }));
    // An aborted transaction: a read_committed consumer must never apply it.
    await expect(
      inTransaction(async (tx) => {
        await publish(tx, aggregate({ startOffsetS: 20, revision: 9, count: 999, sum: 999 }));
        throw new Error('abort on purpose');
      }),
    ).rejects.toThrow('abort on purpose');
    // Invalid: its key names another tenant (it would overwrite that tenant's window); goes to the DLQ.
    await publish(producer, aggregate({ startOffsetS: 30, revision: 1, count: 1, sum: 1, keyTenant: 'victim' }));
    await consumed();

    const rows = await h.db.query<{
      start_s: number;
      revision: string;
      count: string;
      sum: number;
      trace_id: string;
      max_event_ms: string | null;
    }>(
      `SELECT (extract(epoch FROM window_start) * 1000 - $2::bigint) / 1000 AS start_s, revision::text, count::text, sum, trace_id,
        (extract(epoch FROM max_event_time - window_start) * 1000)::bigint::text AS max_event_ms
       FROM window_aggregates WHERE tenant_id = $1 ORDER BY window_start`,
      [TENANT, BASE],
    );
    expect(rows.rows.map((r) => [Number(r.start_s), r.revision, r.count, r.sum, r.trace_id, r.max_event_ms])).toEqual([
      [0, '2', '2', 20, traceOf(0, 2), '200'],
      [10, '3', '5', 50, traceOf(10, 3), '300'],
      [20, '0', '7', 70, traceOf(20, 0), null],
    ]);
    // The dead letter is written before its source offset is committed, but the high watermark read through
    // another connection can trail by a moment on a loaded machine: wait for it, then require exactly one.
    let dlqHigh = 0;
    for (const deadline = Date.now() + 15_000; dlqHigh < 1 && Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
      const dlq = await admin.fetchTopicOffsets(`${TOPIC}.dlq`);
      dlqHigh = dlq.reduce((n, p) => n + Number(p.high), 0);
    }
    await new Promise((r) => setTimeout(r, 300)); // a second dead letter would show up here
    const dlq = await admin.fetchTopicOffsets(`${TOPIC}.dlq`);
    expect(dlq.reduce((n, p) => n + Number(p.high), 0)).toBe(1);
  });

  it('streamed exactly the upserts that changed the read model, in order per window', async () => {
    await waitFor(() => streamed.length >= 4);
    await new Promise((r) => setTimeout(r, 500)); // nothing more may arrive
    const byWindow = new Map<number, number[]>();
    for (const a of streamed) {
      const start = (a.windowStart!.getTime() - BASE) / 1000;
      byWindow.set(start, [...(byWindow.get(start) ?? []), Number(a.revision)]);
      expect(a.traceId).toBe(traceOf(start, Number(a.revision)));
      const maxEventOffset = maxEventOffsetOf(Number(a.revision));
      expect(a.maxEventTime?.getTime()).toBe(maxEventOffset === undefined ? undefined : a.windowStart!.getTime() + maxEventOffset);
    }
    // Windows live on different partitions, so only the order within one window is defined.
    expect([...byWindow.entries()].sort(([a], [b]) => a - b)).toEqual([
      [0, [1, 2]],
      [10, [3]],
      [20, [0]],
    ]);
  });

  it('serves the series at the smallest tumbling resolution, in pages', async () => {
    // A 60 s tumbling and a 60 s/10 s hopping window: neither belongs in the 10 s series.
    await publish(producer, aggregate({ size: 60, revision: 1, count: 14, sum: 140 }));
    await publish(producer, aggregate({ size: 60, slide: 10, revision: 1, count: 14, sum: 140 }));
    await consumed();

    const first = await getAggregates({ tenantId: TENANT, metric: 'page.view', ...RANGE, page: { pageSize: 2, pageToken: '' } });
    expect(first.aggregates.map((a) => [Number(a.windowSizeSeconds), Number(a.count)])).toEqual([
      [10, 2],
      [10, 5],
    ]);
    expect(first.page?.nextPageToken).not.toBe('');
    const second = await getAggregates({
      tenantId: TENANT,
      metric: 'page.view',
      ...RANGE,
      page: { pageSize: 2, pageToken: first.page!.nextPageToken },
    });
    expect(second.aggregates.map((a) => Number(a.count))).toEqual([7]);
    // The trace of the revision kept comes back out (the console links each point to it).
    expect([...first.aggregates, ...second.aggregates].map((a) => a.traceId)).toEqual([traceOf(0, 2), traceOf(10, 3), traceOf(20, 0)]);
    // So does its newest event time (none for the revision that was sent without one).
    expect(
      [...first.aggregates, ...second.aggregates].map((a) => a.maxEventTime && a.maxEventTime.getTime() - a.windowStart!.getTime()),
    ).toEqual([200, 300, undefined]);
    expect(second.page?.nextPageToken).toBe('');

    const minute = await getAggregates({ tenantId: TENANT, metric: 'page.view', ...RANGE, windowSizeSeconds: 60n });
    expect(minute.aggregates.map((a) => [Number(a.windowSizeSeconds), Number(a.windowSlideSeconds), Number(a.count)])).toEqual([
      [60, 60, 14],
    ]);
  });

  it('refuses a page token from another query and a request without tenant', async () => {
    const first = await getAggregates({ tenantId: TENANT, metric: 'page.view', ...RANGE, page: { pageSize: 1, pageToken: '' } });
    await expect(
      getAggregates({ tenantId: TENANT, metric: 'other', ...RANGE, page: { pageSize: 1, pageToken: first.page!.nextPageToken } }),
    ).rejects.toMatchObject({
      code: 'INSIGHTS.INVALID_PAGE_TOKEN',
    } satisfies Partial<AppError>);
    await expect(getAggregates({ ...RANGE })).rejects.toMatchObject({ code: 'INSIGHTS.INVALID_REQUEST', kind: 'INVALID_ARGUMENT' });
  });

  it("refuses another tenant's data and calls without a credential", async () => {
    const otherKey = h.auth.apiKey(h.auth.issuer.createApiKey(`other${RUN}`).key).metadata;
    await expect(getAggregates({ tenantId: TENANT, metric: 'page.view', ...RANGE }, otherKey)).rejects.toMatchObject({
      kind: 'PERMISSION_DENIED',
      code: 'AUTH.TENANT_FORBIDDEN',
    });
    await expect(getTopN({ tenantId: TENANT, metric: 'checkout', dimensionKey: 'country', ...RANGE }, otherKey)).rejects.toMatchObject({
      code: 'AUTH.TENANT_FORBIDDEN',
    });
    await expect(getAggregates({ tenantId: TENANT, metric: 'page.view', ...RANGE }, new Metadata())).rejects.toMatchObject({
      kind: 'UNAUTHENTICATED',
      code: 'AUTH.CREDENTIALS_REQUIRED',
    });
    const foreignStream = client.streamAggregates({ tenantId: TENANT, streamId: '', metric: '' }, otherKey);
    const streamError = await new Promise<AppError>((resolve) => foreignStream.on('error', (e) => resolve(fromGrpcError(e))));
    expect(streamError).toMatchObject({ kind: 'PERMISSION_DENIED', code: 'AUTH.TENANT_FORBIDDEN' });
  });

  it('accepts a JWT with insights:read for its own tenant claim only', async () => {
    const own = (await h.auth.bearer('analyst-1', ['ingest'], { tenant: TENANT })).metadata;
    await expect(getAggregates({ tenantId: TENANT, metric: 'page.view', ...RANGE }, own)).resolves.toBeDefined();
    const noTenant = (await h.auth.bearer('analyst-2', ['ingest'])).metadata;
    await expect(getAggregates({ tenantId: TENANT, metric: 'page.view', ...RANGE }, noTenant)).rejects.toMatchObject({
      code: 'AUTH.TENANT_FORBIDDEN',
    });
    const noScope = (await h.auth.bearer('c-1', ['customer'], { tenant: TENANT })).metadata;
    await expect(getAggregates({ tenantId: TENANT, metric: 'page.view', ...RANGE }, noScope)).rejects.toMatchObject({
      kind: 'PERMISSION_DENIED',
      code: 'AUTH.SCOPE_REQUIRED',
    });
  });

  it('ranks dimension values by sum or count over one resolution', async () => {
    const byCountry: [string, number, number][] = [
      ['DE', 3, 300],
      ['FR', 9, 90],
      ['US', 5, 500],
    ];
    for (const [country, count, sum] of byCountry) {
      await publish(producer, aggregate({ metric: 'checkout', dim: ['country', country], revision: 1, count, sum }));
      await publish(producer, aggregate({ metric: 'checkout', dim: ['country', country], startOffsetS: 10, revision: 1, count, sum }));
      // The 60 s window holds the same events; counting it too would double them.
      await publish(
        producer,
        aggregate({ metric: 'checkout', dim: ['country', country], size: 60, revision: 1, count: count * 2, sum: sum * 2 }),
      );
    }
    await consumed();
    const bySum = await getTopN({ tenantId: TENANT, metric: 'checkout', dimensionKey: 'country', ...RANGE, limit: 2 });
    expect(bySum.entries.map((e) => [e.dimensionValue, Number(e.count), e.sum])).toEqual([
      ['US', 10, 1000],
      ['DE', 6, 600],
    ]);
    const byCount = await getTopN({ tenantId: TENANT, metric: 'checkout', dimensionKey: 'country', ...RANGE, orderBy: 'count' });
    expect(byCount.entries.map((e) => e.dimensionValue)).toEqual(['FR', 'US', 'DE']);
    await expect(getTopN({ tenantId: TENANT, metric: 'checkout', ...RANGE })).rejects.toMatchObject({ code: 'INSIGHTS.INVALID_REQUEST' });
  });

  it('ends the subscription when the client cancels', async () => {
    const streams = h.app.get(StreamAggregatesGrpc);
    expect(streams.openStreams).toBe(1);
    stream.cancel();
    await waitFor(() => streams.openStreams === 0);
  });

  it('stores a fetched batch in one statement, newest revision per window; live subscribers still see every newer revision in order', async () => {
    const metric = 'batch.view';
    const mine: analyticsV1.WindowAggregate[] = [];
    const live = client.streamAggregates({ tenantId: TENANT, streamId: '', metric }, tenantKey);
    live.on('data', (m: analyticsV1.StreamAggregatesResponse) => m.aggregate && mine.push(m.aggregate));
    live.on('error', () => undefined);
    await new Promise<void>((resolve) => live.once('metadata', () => resolve()));
    try {
      // Revision 3 of window +100 s is stored first, so the batch meets a stored row.
      await publish(producer, aggregate({ metric, startOffsetS: 100, revision: 3, count: 3, sum: 30 }));
      await consumed();
      // One processor-like transaction: revisions 1-8 of window +100 s and 1-5 of +110 s interleaved, then a duplicate.
      await inTransaction(async (tx) => {
        for (let r = 1; r <= 8; r++) {
          await publish(tx, aggregate({ metric, startOffsetS: 100, revision: r, count: r, sum: r * 10 }));
          if (r <= 5) await publish(tx, aggregate({ metric, startOffsetS: 110, revision: r, count: r, sum: r }));
        }
        await publish(tx, aggregate({ metric, startOffsetS: 100, revision: 8, count: 8, sum: 80 }));
      });
      await consumed();
      const rows = await h.db.query<{ start_s: number; revision: string; count: string; sum: number; trace_id: string }>(
        `SELECT (extract(epoch FROM window_start) * 1000 - $2::bigint) / 1000 AS start_s, revision::text, count::text, sum, trace_id
         FROM window_aggregates WHERE tenant_id = $1 AND metric = $3 ORDER BY window_start`,
        [TENANT, BASE, metric],
      );
      expect(rows.rows.map((r) => [Number(r.start_s), r.revision, r.count, r.sum, r.trace_id])).toEqual([
        [100, '8', '8', 80, traceOf(100, 8)],
        [110, '5', '5', 5, traceOf(110, 5)],
      ]);
      const revisionsOf = (startS: number) =>
        mine.filter((a) => a.windowStart!.getTime() === BASE + startS * 1000).map((a) => Number(a.revision));
      await waitFor(() => revisionsOf(100).length >= 6 && revisionsOf(110).length >= 5);
      await new Promise((r) => setTimeout(r, 500)); // nothing more may arrive
      expect(revisionsOf(100)).toEqual([3, 4, 5, 6, 7, 8]);
      expect(revisionsOf(110)).toEqual([1, 2, 3, 4, 5]);
    } finally {
      live.cancel();
    }
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
