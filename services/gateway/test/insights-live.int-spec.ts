/**
 * The gateway's insights routes and live channel in-process (real Nest + Fastify listening on an ephemeral
 * port, real Kafka admin/producer) against a REAL gRPC InsightsService on an ephemeral port, served by an
 * in-test implementation whose StreamAggregates the test drives. The SSE stream is read with fetch, as a
 * browser would, so headers, framing, heartbeats and disconnects cross real sockets.
 */
import 'reflect-metadata';
import { Metadata, type ServerWritableStream } from '@grpc/grpc-js';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { analyticsV1 } from '@tessera/contracts';
import { AppError, PROBLEM_CONTENT_TYPE, toGrpcStatus } from '@tessera/errors';
import { createGrpcServer, type GrpcServerHandle, wrapUnary } from '@tessera/grpc';
import pino from 'pino';
import { createGatewayApp } from '../src/http/app-setup';
import { createTestAuth, type TestAuth, testConfig } from './support/edge';

jest.setTimeout(30_000);

let KEY: string;
let OTHER_KEY: string;
let t: TestAuth;
const START = new Date('2026-01-01T12:00:00.000Z');

type StreamCall = ServerWritableStream<analyticsV1.StreamAggregatesRequest, analyticsV1.StreamAggregatesResponse>;
const streams: { call: StreamCall; cancelled: boolean }[] = [];
const requests: { method: string; request: unknown }[] = [];

function aggregate(revision: number): analyticsV1.WindowAggregate {
  return analyticsV1.WindowAggregate.fromPartial({
    windowKey: `acme|web|page.view|=|10|10|${START.getTime()}`,
    tenantId: 'acme',
    streamId: 'web',
    metric: 'page.view',
    windowSizeSeconds: 10n,
    windowSlideSeconds: 10n,
    windowStart: START,
    windowEnd: new Date(START.getTime() + 10_000),
    count: 4n,
    sum: 12.5,
    revision: BigInt(revision),
    producer: 'stream-processor',
  });
}

let grpc: GrpcServerHandle;
let app: NestFastifyApplication;
let base: string;

beforeAll(async () => {
  const created = await createTestAuth(['acme', 'globex']);
  t = created;
  KEY = created.tenantKeys['acme']!;
  OTHER_KEY = created.tenantKeys['globex']!;
  const logger = pino({ level: 'silent' });
  grpc = await createGrpcServer({
    port: 0,
    host: '127.0.0.1',
    logger,
    shutdownGraceMs: 500,
    services: [
      {
        definition: analyticsV1.InsightsServiceService,
        implementation: {
          getAggregates: wrapUnary(
            async (req: analyticsV1.GetAggregatesRequest) => {
              requests.push({ method: 'getAggregates', request: req });
              return { aggregates: [aggregate(3)], page: { nextPageToken: 'next-1' } };
            },
            { logger },
          ),
          getTopN: wrapUnary(
            async (req: analyticsV1.GetTopNRequest) => {
              requests.push({ method: 'getTopN', request: req });
              return { entries: [{ dimensionValue: 'DE', count: 7n, sum: 70 }] };
            },
            { logger },
          ),
          streamAggregates: (call: StreamCall) => {
            requests.push({ method: 'streamAggregates', request: call.request });
            if (call.request.metric === 'unavailable') {
              call.emit('error', toGrpcStatus(new AppError({ code: 'INSIGHTS.DOWN', kind: 'UNAVAILABLE', message: 'read model down' })));
              return;
            }
            const entry = { call, cancelled: false };
            call.on('cancelled', () => (entry.cancelled = true));
            streams.push(entry);
            call.sendMetadata(new Metadata());
          },
        },
      },
    ],
  });
  const config = testConfig({
    INSIGHTS_ADDR: `127.0.0.1:${grpc.port}`,
    GATEWAY_LIVE_HEARTBEAT_MS: '200',
    GATEWAY_GRPC_DEADLINE_MS: '2000',
  });
  app = await createGatewayApp(config, t.auth, { logger: ['error', 'warn'] });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  base = `http://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  await app?.close();
  await grpc?.shutdown();
  t?.cleanup();
});

/** Reads SSE frames from a fetch body until `until` holds for the frames seen so far. */
async function readFrames(body: ReadableStream<Uint8Array>, until: (frames: string[]) => boolean): Promise<string[]> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const frames: string[] = [];
  const deadline = Date.now() + 10_000;
  while (!until(frames)) {
    if (Date.now() > deadline) throw new Error(`timed out; frames so far: ${JSON.stringify(frames)}`);
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      frames.push(buffer.slice(0, cut));
      buffer = buffer.slice(cut + 2);
    }
  }
  reader.releaseLock();
  return frames;
}

async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('GET /v1/live/aggregates', () => {
  it("refuses a missing key (401), an unknown key (401) and another tenant's key (403) as problem+json", async () => {
    const missing = await fetch(`${base}/v1/live/aggregates?tenantId=acme`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('content-type')).toContain(PROBLEM_CONTENT_TYPE);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="tessera"');
    expect(await missing.json()).toMatchObject({ code: 'AUTH.CREDENTIALS_REQUIRED' });
    const unknown = await fetch(`${base}/v1/live/aggregates?tenantId=acme`, { headers: { 'x-api-key': 'nope-nope-nope' } });
    expect(await unknown.json()).toMatchObject({ status: 401, code: 'AUTH.API_KEY_INVALID' });
    const other = await fetch(`${base}/v1/live/aggregates?tenantId=acme&apiKey=${OTHER_KEY}`);
    expect(await other.json()).toMatchObject({ status: 403, code: 'AUTH.TENANT_FORBIDDEN' });
    expect(requests.filter((r) => r.method === 'streamAggregates')).toHaveLength(0);
  });

  it('streams each pushed aggregate as an SSE event, with heartbeats, until the browser disconnects', async () => {
    const abort = new AbortController();
    const res = await fetch(`${base}/v1/live/aggregates?tenantId=acme&metric=page.view&apiKey=${KEY}`, { signal: abort.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('cache-control')).toContain('no-cache');
    await waitFor(() => streams.length === 1);
    expect(requests.at(-1)).toEqual({ method: 'streamAggregates', request: { tenantId: 'acme', streamId: '', metric: 'page.view' } });

    streams[0]!.call.write({ aggregate: aggregate(1) });
    streams[0]!.call.write({ aggregate: aggregate(2) });
    const frames = await readFrames(
      res.body!,
      (f) => f.filter((x) => x.startsWith('event: aggregate')).length === 2 && f.includes(': heartbeat'),
    );
    expect(frames[0]).toBe('retry: 3000');
    expect(frames[1]).toBe(': subscribed');
    const events = frames.filter((f) => f.startsWith('event: aggregate')).map((f) => f.split('\n'));
    expect(events.map((lines) => lines[1])).toEqual([
      `id: acme|web|page.view|=|10|10|${START.getTime()}#1`,
      `id: acme|web|page.view|=|10|10|${START.getTime()}#2`,
    ]);
    expect(JSON.parse(events[1]![2]!.slice('data: '.length))).toMatchObject({
      tenantId: 'acme',
      metric: 'page.view',
      count: 4,
      sum: 12.5,
      revision: 2,
      windowStart: START.toISOString(),
    });

    abort.abort();
    await waitFor(() => streams[0]!.cancelled);
  });

  it('accepts a JWT as the access_token query parameter (EventSource cannot send Authorization), forwarded upstream', async () => {
    const token = await t.token('svc-acme', ['ingest'], { tenant: 'acme' });
    const abort = new AbortController();
    const res = await fetch(`${base}/v1/live/aggregates?tenantId=acme&access_token=${token}`, { signal: abort.signal });
    expect(res.status).toBe(200);
    await waitFor(() => streams.length === 2);
    expect(streams[1]!.call.metadata.get('authorization')).toEqual([`Bearer ${token}`]);
    abort.abort();
    await waitFor(() => streams[1]!.cancelled);
    const otherTenant = await fetch(
      `${base}/v1/live/aggregates?tenantId=acme&access_token=${await t.token('svc-globex', ['ingest'], { tenant: 'globex' })}`,
    );
    expect(await otherTenant.json()).toMatchObject({ status: 403, code: 'AUTH.TENANT_FORBIDDEN' });
  });

  it('answers 503 problem+json when insights refuses the subscription', async () => {
    const res = await fetch(`${base}/v1/live/aggregates?tenantId=acme&metric=unavailable`, { headers: { 'x-api-key': KEY } });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ code: 'INSIGHTS.DOWN' });
  });

  it('validates the query once the caller is authenticated and authorised for the tenant', async () => {
    const res = await fetch(`${base}/v1/live/aggregates?tenantId=acme&extra=1`, { headers: { 'x-api-key': KEY } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: { field: string }[] }).errors.map((e) => e.field).sort()).toEqual(['(body)']);
    // A tenant that is not the key's is refused before validation, so nothing is learnt about it.
    expect((await fetch(`${base}/v1/live/aggregates?tenantId=a%20b`, { headers: { 'x-api-key': KEY } })).status).toBe(403);
  });
});

describe('GET /v1/insights', () => {
  it('reads a series with the request mapped to GetAggregates', async () => {
    const res = await fetch(
      `${base}/v1/insights/aggregates?tenantId=acme&metric=page.view&dimensionKey=country&from=2026-01-01T11:00:00Z&resolution=60&pageSize=500`,
      { headers: { 'x-api-key': KEY } },
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: { revision: number }[]; nextPageToken: string };
    expect(body).toMatchObject({
      items: [{ windowKey: `acme|web|page.view|=|10|10|${START.getTime()}`, revision: 3, count: 4 }],
      nextPageToken: 'next-1',
    });
    expect(requests.at(-1)).toMatchObject({
      method: 'getAggregates',
      request: {
        tenantId: 'acme',
        metric: 'page.view',
        dimensionKey: 'country',
        dimensionValue: '',
        windowSizeSeconds: 60n,
        from: new Date('2026-01-01T11:00:00Z'),
        page: { pageSize: 500, pageToken: '' },
      },
    });
  });

  it('ranks with GetTopN and requires the key', async () => {
    const res = await fetch(`${base}/v1/insights/top?tenantId=acme&metric=page.view&dimensionKey=country&orderBy=count&limit=5`, {
      headers: { 'x-api-key': KEY },
    });
    expect(await res.json()).toEqual({ items: [{ dimensionValue: 'DE', count: 7, sum: 70 }] });
    expect(requests.at(-1)).toMatchObject({ method: 'getTopN', request: { tenantId: 'acme', orderBy: 'count', limit: 5 } });
    const denied = await fetch(`${base}/v1/insights/top?tenantId=acme&metric=page.view&dimensionKey=country`);
    expect(denied.status).toBe(401);
  });
});
