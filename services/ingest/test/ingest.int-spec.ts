/**
 * IngestService in-process against the REAL Kafka on 127.0.0.1:19092, each run on its own raw topic
 * (INGEST_RAW_TOPIC), plus an instance pointed at a closed port to prove it refuses rather than buffers.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Metadata } from '@grpc/grpc-js';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { analyticsV1 } from '@tessera/contracts';
import { type AppError, fromGrpcError, isAppError } from '@tessera/errors';
import { checkHealth, createGrpcClient, unaryCall } from '@tessera/grpc';
import { decodeEnvelope, kafkaSecurityFromEnv } from '@tessera/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { AppModule } from '../src/app.module';
import { ingestConfigSchema } from '../src/config';
import { RejectionCodes } from '../src/events/ingest.errors';
import { GrpcServerHost } from '../src/platform/grpc-server.host';
import { RawEventPublisher } from '../src/publishing/raw-event.publisher';
import { startTestAuth, type TestAuth } from '@tessera/auth';
import { freePort, throwawayTopics, type ThrowawayTopics } from '@tessera/testing';

jest.setTimeout(90_000);

const BROKERS = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092').split(',');
const RUN = randomUUID().slice(0, 8);
const TOPIC = `test.ingest.raw.${RUN}`;
// In-process suites run plaintext explicitly (mTLS is covered by libs/grpc and the e2e platform).
process.env['TESSERA_GRPC_PLAINTEXT'] ??= 'true';
/** Real hashed API keys from a throwaway dev issuer, created in beforeAll. */
let auth: TestAuth;
let acmeKey = '';
let globexKey = '';
const kafka = new Kafka({ ...kafkaSecurityFromEnv(), clientId: `ingest-test-${RUN}`, brokers: BROKERS, logLevel: logLevel.NOTHING });

interface Running {
  app: INestApplicationContext;
  client: analyticsV1.IngestServiceClient;
  addr: string;
  close(): Promise<void>;
}

async function startIngest(env: Record<string, string>): Promise<Running> {
  const config = ingestConfigSchema.parse({
    INGEST_GRPC_PORT: '0',
    INGEST_RAW_TOPIC: TOPIC,
    ...auth.env,
    KAFKA_BROKERS: BROKERS.join(','),
    ...env,
  });
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), { logger: ['error'] });
  await app.init();
  const addr = `127.0.0.1:${app.get(GrpcServerHost).port}`;
  const client = createGrpcClient(analyticsV1.IngestServiceClient, addr, { retry: 'none', defaultDeadlineMs: 30_000, forwardAuth: false });
  return {
    app,
    client,
    addr,
    close: async () => {
      client.close();
      await app.close();
    },
  };
}

function apiKey(key = acmeKey): Metadata {
  const m = new Metadata();
  m.set('x-api-key', key);
  return m;
}

function event(overrides: Partial<analyticsV1.AnalyticsEvent> = {}): analyticsV1.AnalyticsEvent {
  return analyticsV1.AnalyticsEvent.fromPartial({
    tenantId: 'acme',
    streamId: 'web',
    eventId: randomUUID(),
    eventType: 'page.view',
    occurredAt: new Date(),
    value: 1,
    attributes: { country: 'DE' },
    ...overrides,
  });
}

/** Every record on the run's topic (read from the beginning by a throwaway group) until `expected` arrived or the wait ends. */
async function readTopic(
  expected: number,
  waitMs = 20_000,
): Promise<{ key: string; partition: number; id: string; event: analyticsV1.AnalyticsEvent }[]> {
  const consumer = kafka.consumer({ groupId: `ingest-test-reader-${randomUUID()}`, maxWaitTimeInMs: 250 });
  const records: { key: string; partition: number; id: string; event: analyticsV1.AnalyticsEvent }[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  let settle: () => void = () => undefined;
  const enough = new Promise<void>((resolve) => (settle = resolve));
  await consumer.run({
    eachMessage: async ({ message, partition }) => {
      const envelope = decodeEnvelope(message.value);
      records.push({
        key: message.key?.toString() ?? '',
        partition,
        id: envelope.id,
        event: analyticsV1.AnalyticsEvent.decode(envelope.data),
      });
      if (records.length >= expected) settle();
    },
  });
  await Promise.race([enough, new Promise((r) => setTimeout(r, waitMs))]);
  // A short grace period so an unexpected extra record (a duplicate) would be seen too.
  await new Promise((r) => setTimeout(r, 1500));
  await consumer.stop();
  await consumer.disconnect();
  return records;
}

function streamCall(
  client: analyticsV1.IngestServiceClient,
  chunks: analyticsV1.AnalyticsEvent[][],
  metadata = apiKey(),
): Promise<analyticsV1.IngestStreamResponse> {
  return new Promise((resolve, reject) => {
    const call = client.ingestStream(metadata, (error, response) => (error ? reject(error) : resolve(response)));
    let i = 0;
    const writeMore = (): void => {
      while (i < chunks.length) {
        const ok = call.write({ events: chunks[i] });
        i += 1;
        if (!ok) {
          call.once('drain', writeMore);
          return;
        }
      }
      call.end();
    };
    writeMore();
  });
}

async function failure(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (isAppError(error)) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

let ingest: Running;
let topics: ThrowawayTopics | undefined;
let sentAccepted = 0;

beforeAll(async () => {
  auth = await startTestAuth();
  acmeKey = auth.issuer.createApiKey('acme').key;
  globexKey = auth.issuer.createApiKey('globex').key;
  topics = await throwawayTopics(kafka, [{ topic: TOPIC, partitions: 3 }]);
  ingest = await startIngest({});
});

afterAll(async () => {
  await ingest?.close();
  await topics?.delete();
  auth?.close();
});

describe('IngestService against real Kafka', () => {
  it('reports SERVING while Kafka and the raw topic are reachable', async () => {
    expect(await checkHealth(ingest.addr)).toBe('SERVING');
    expect(await checkHealth(ingest.addr, 'tessera.analytics.v1.IngestService')).toBe('SERVING');
  });

  it('refuses a call without a valid credential', async () => {
    const missing = await failure(unaryCall(ingest.client, 'ingestBatch', { events: [event()] }));
    expect(missing).toMatchObject({ kind: 'UNAUTHENTICATED', code: 'AUTH.CREDENTIALS_REQUIRED' });
    const wrong = await failure(unaryCall(ingest.client, 'ingestBatch', { events: [event()] }, { metadata: apiKey('not-a-real-key') }));
    expect(wrong).toMatchObject({ kind: 'UNAUTHENTICATED', code: 'AUTH.API_KEY_INVALID' });
    const stream = await failure(
      streamCall(ingest.client, [[event()]], new Metadata()).catch((e: unknown) => Promise.reject(fromGrpcError(e))),
    );
    expect(stream).toMatchObject({ kind: 'UNAUTHENTICATED', code: 'AUTH.CREDENTIALS_REQUIRED' });
  });

  it("takes the tenant from the key: another tenant's key gets every acme event rejected, nothing published", async () => {
    const res = await unaryCall(ingest.client, 'ingestBatch', { events: [event(), event()] }, { metadata: apiKey(globexKey) });
    expect(res.accepted).toBe(0);
    expect(res.rejections.map((r) => r.code)).toEqual([RejectionCodes.tenantMismatch, RejectionCodes.tenantMismatch]);
  });

  it('accepts a JWT with events:write and a tenant claim; refuses one without the tenant or the scope', async () => {
    const withTenant = await auth.bearer('pipeline-1', ['ingest'], { tenant: 'acme' });
    const ok = await unaryCall(ingest.client, 'ingestBatch', { events: [event({ streamId: 'jwt' })] }, withTenant);
    expect(ok).toMatchObject({ accepted: 1, rejections: [] });
    sentAccepted += 1;
    const noTenant = await failure(
      unaryCall(ingest.client, 'ingestBatch', { events: [event()] }, await auth.bearer('pipeline-2', ['ingest'])),
    );
    expect(noTenant).toMatchObject({ kind: 'PERMISSION_DENIED', code: 'AUTH.TENANT_FORBIDDEN' });
    const noScope = await failure(
      unaryCall(ingest.client, 'ingestBatch', { events: [event()] }, await auth.bearer('op-1', ['operator'], { tenant: 'acme' })),
    );
    expect(noScope).toMatchObject({ kind: 'PERMISSION_DENIED', code: 'AUTH.SCOPE_REQUIRED' });
  });

  it('refuses a revoked key without a restart', async () => {
    const { key, record } = auth.issuer.createApiKey('acme');
    await new Promise((r) => setTimeout(r, 1100)); // the store is re-read at most once per second
    expect(await unaryCall(ingest.client, 'ingestBatch', { events: [] }, { metadata: apiKey(key) })).toMatchObject({ accepted: 0 });
    auth.issuer.revokeApiKey(record.id);
    await new Promise((r) => setTimeout(r, 1100));
    const revoked = await failure(unaryCall(ingest.client, 'ingestBatch', { events: [] }, { metadata: apiKey(key) }));
    expect(revoked).toMatchObject({ kind: 'UNAUTHENTICATED', code: 'AUTH.API_KEY_INVALID' });
  });

  it('accepts the good events of a mixed batch, reports each bad one, and the good ones are on the topic exactly once', async () => {
    const good = [
      event({ streamId: 'checkout' }),
      event({ streamId: 'checkout', value: 2.5 }),
      event({ streamId: 'web', attributes: { plan: 'pro' } }),
    ];
    const bad = [
      event({ tenantId: '' }),
      event({ tenantId: 'globex' }),
      event({ eventType: 'Not A Type' }),
      event({ occurredAt: new Date(Date.now() + 3_600_000) }),
      event({ occurredAt: new Date(Date.now() - 30 * 86_400_000) }),
      event({ attributes: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'v'])) }),
      event({ attributes: { city: 'M\uFFFDnchen' } }),
      event({ value: Number.NaN }),
    ];
    const batch = [bad[0], good[0], bad[1], bad[2], good[1], bad[3], bad[4], bad[5], good[2], bad[6], bad[7]].map(
      (e) => e as analyticsV1.AnalyticsEvent,
    );
    const res = await unaryCall(ingest.client, 'ingestBatch', { events: batch }, { metadata: apiKey() });
    expect(res.accepted).toBe(3);
    expect(res.rejections.map((r) => [r.index, r.code])).toEqual([
      [0, RejectionCodes.tenantRequired],
      [2, RejectionCodes.tenantMismatch],
      [3, RejectionCodes.invalidEventType],
      [5, RejectionCodes.occurredAtOutOfRange],
      [6, RejectionCodes.occurredAtOutOfRange],
      [7, RejectionCodes.attributesTooLarge],
      [9, RejectionCodes.invalidUtf8],
      [10, RejectionCodes.invalidValue],
    ]);
    expect(res.rejections[1]?.eventId).toBe(bad[1]?.eventId);
    sentAccepted += 3;

    // The JWT test above published one event of its own (stream 'jwt').
    const records = (await readTopic(sentAccepted)).filter((r) => r.event.streamId !== 'jwt');
    expect(records).toHaveLength(3);
    expect(records.map((r) => r.id).sort()).toEqual(good.map((e) => e.eventId).sort());
    const byId = new Map(records.map((r) => [r.id, r]));
    for (const e of good) {
      const record = byId.get(e.eventId);
      expect(record?.key).toBe(`acme/${e.streamId}`);
      expect(record?.event).toEqual(e);
    }
  });

  it('ingests a client stream of 5000 events: all acknowledged, each on the topic once, in order per tenant/stream', async () => {
    const streams = ['s1', 's2', 's3', 's4', 's5'];
    const events = Array.from({ length: 5000 }, (_, i) =>
      event({ streamId: streams[i % streams.length], eventId: `e-${RUN}-${i}`, value: i }),
    );
    const chunks: analyticsV1.AnalyticsEvent[][] = [];
    for (let i = 0; i < events.length; i += 250) chunks.push(events.slice(i, i + 250));
    // Two bad events in the middle: reported with their position in the whole stream.
    chunks[7]?.push(event({ eventType: '' }));
    chunks[12]?.push(event({ tenantId: 'globex' }));

    const res = await streamCall(ingest.client, chunks);
    expect(res.accepted).toBe(5000n);
    expect(res.rejectedCount).toBe(2n);
    expect(res.rejections.map((r) => [r.index, r.code])).toEqual([
      [8 * 250, RejectionCodes.invalidEventType],
      [13 * 250 + 1, RejectionCodes.tenantMismatch],
    ]);
    sentAccepted += 5000;

    const records = (await readTopic(sentAccepted, 45_000)).filter((r) => r.id.startsWith(`e-${RUN}-`));
    expect(records).toHaveLength(5000);
    expect(new Set(records.map((r) => r.id)).size).toBe(5000);
    for (const s of streams) {
      const values = records.filter((r) => r.key === `acme/${s}`).map((r) => r.event.value);
      expect(values).toHaveLength(1000);
      expect(values).toEqual([...values].sort((a, b) => a - b));
    }
  });

  it('fails a whole stream with INVALID_ARGUMENT when a message exceeds the batch limit', async () => {
    const oversize = Array.from({ length: 1001 }, () => event());
    const err = await failure(streamCall(ingest.client, [oversize]).catch((e: unknown) => Promise.reject(fromService(e))));
    expect(err).toMatchObject({ kind: 'INVALID_ARGUMENT', code: 'INGEST.BATCH_TOO_LARGE' });
  });
});

describe('back-pressure', () => {
  it('sheds load beyond INGEST_MAX_PENDING_PUBLISHES with UNAVAILABLE, and acknowledges exactly what Kafka holds', async () => {
    const tight = await startIngest({ INGEST_MAX_PENDING_PUBLISHES: '1' });
    try {
      const calls = Array.from({ length: 20 }, (_, i) =>
        unaryCall(
          tight.client,
          'ingestBatch',
          { events: Array.from({ length: 50 }, (__, j) => event({ streamId: 'bp', eventId: `bp-${RUN}-${i}-${j}` })) },
          { metadata: apiKey() },
        ).then(
          (res) => ({ ok: true as const, accepted: res.accepted }),
          (error: unknown) => ({ ok: false as const, error: error as AppError }),
        ),
      );
      const results = await Promise.all(calls);
      const refused = results.filter((r) => !r.ok);
      const acked = results.reduce((n, r) => n + (r.ok ? r.accepted : 0), 0);
      expect(refused.length).toBeGreaterThan(0);
      for (const r of refused) {
        expect(r.error).toMatchObject({ kind: 'UNAVAILABLE', code: 'INGEST.OVERLOADED' });
        expect(r.error.metadata['retryAfterSeconds']).toMatch(/^[1-9]\d*$/);
      }
      expect(tight.app.get(RawEventPublisher).pendingBatches).toBe(0);
      sentAccepted += acked;
      const onTopic = (await readTopic(sentAccepted, 30_000)).filter((r) => r.id.startsWith(`bp-${RUN}-`));
      expect(onTopic).toHaveLength(acked);
    } finally {
      await tight.close();
    }
  });
});

describe('slow broker', () => {
  it('answers UNAVAILABLE when the ack does not come within INGEST_PUBLISH_TIMEOUT_MS, and frees the slot once Kafka answers', async () => {
    const impatient = await startIngest({ INGEST_PUBLISH_TIMEOUT_MS: '1' });
    try {
      const err = await failure(
        unaryCall(
          impatient.client,
          'ingestBatch',
          { events: Array.from({ length: 200 }, () => event({ streamId: 'slow' })) },
          { metadata: apiKey() },
        ),
      );
      expect(err).toMatchObject({ kind: 'UNAVAILABLE', code: 'INGEST.KAFKA_UNAVAILABLE' });
      expect(Number(err.metadata['retryAfterSeconds'])).toBeGreaterThanOrEqual(1);
      const publisher = impatient.app.get(RawEventPublisher);
      const deadline = Date.now() + 15_000;
      while (publisher.pendingBatches > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(publisher.pendingBatches).toBe(0);
    } finally {
      await impatient.close();
    }
  });
});

describe('Kafka unreachable', () => {
  let down: Running;

  beforeAll(async () => {
    down = await startIngest({ KAFKA_BROKERS: `127.0.0.1:${await freePort()}`, INGEST_KAFKA_PROBE_MS: '2000' });
  });

  afterAll(async () => {
    await down?.close();
  });

  it('is NOT_SERVING', async () => {
    expect(await checkHealth(down.addr)).toBe('NOT_SERVING');
  });

  it('answers IngestBatch UNAVAILABLE with a retry hint and acknowledges nothing', async () => {
    const err = await failure(
      unaryCall(down.client, 'ingestBatch', { events: [event(), event({ tenantId: '' })] }, { metadata: apiKey() }),
    );
    expect(err).toMatchObject({ kind: 'UNAVAILABLE', code: 'INGEST.KAFKA_UNAVAILABLE' });
    expect(Number(err.metadata['retryAfterSeconds'])).toBeGreaterThanOrEqual(1);
  });

  it('answers IngestStream UNAVAILABLE with a retry hint', async () => {
    const err = await failure(streamCall(down.client, [[event()], [event()]]).catch((e: unknown) => Promise.reject(fromService(e))));
    expect(err).toMatchObject({ kind: 'UNAVAILABLE', code: 'INGEST.KAFKA_UNAVAILABLE' });
    expect(err.metadata['retryAfterSeconds']).toBe('2');
  });

  it('still reports per-event rejections when nothing valid needs Kafka', async () => {
    const res = await unaryCall(down.client, 'ingestBatch', { events: [event({ tenantId: '' })] }, { metadata: apiKey() });
    expect(res).toMatchObject({ accepted: 0, rejections: [{ index: 0, code: RejectionCodes.tenantRequired }] });
  });
});

/** Streaming calls bypass unaryCall, so their ServiceError is converted the same way here. */
function fromService(error: unknown): unknown {
  return fromGrpcError(error);
}
