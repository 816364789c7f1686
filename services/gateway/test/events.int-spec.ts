/**
 * POST /v1/events in-process (real Nest + Fastify) against a REAL gRPC IngestService server on an ephemeral
 * port, served by an in-test implementation that behaves like ingest at the contract level: x-api-key auth,
 * per-event rejections, UNAVAILABLE with ErrorInfo retryAfterSeconds when told Kafka is down.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { analyticsV1 } from '@tessera/contracts';
import { AppError, PROBLEM_CONTENT_TYPE, toGrpcStatus } from '@tessera/errors';
import { createGrpcServer, type GrpcServerHandle } from '@tessera/grpc';
import pino from 'pino';
import { createTestAuth, startGateway, type TestAuth, testConfig } from './support/edge';

jest.setTimeout(30_000);

const BODY_LIMIT = 64 * 1024;
let KEY: string;
let t: TestAuth;

/** What the in-test ingest received, and how it should answer next. */
const received: { apiKey: string | undefined; events: analyticsV1.AnalyticsEvent[] }[] = [];
let kafkaDown = false;

function ingestBatch(
  call: ServerUnaryCall<analyticsV1.IngestBatchRequest, analyticsV1.IngestBatchResponse>,
  callback: sendUnaryData<analyticsV1.IngestBatchResponse>,
): void {
  const [raw] = call.metadata.get('x-api-key');
  const apiKey = typeof raw === 'string' ? raw : undefined;
  received.push({ apiKey, events: call.request.events });
  if (apiKey !== KEY) {
    callback(
      toGrpcStatus(
        new AppError({
          code: apiKey ? 'AUTH.API_KEY_INVALID' : 'AUTH.API_KEY_REQUIRED',
          kind: 'UNAUTHENTICATED',
          message: 'Send an API key',
        }),
      ),
      null,
    );
    return;
  }
  if (kafkaDown) {
    callback(
      toGrpcStatus(
        new AppError({
          code: 'INGEST.KAFKA_UNAVAILABLE',
          kind: 'UNAVAILABLE',
          message: 'Events could not be stored',
          metadata: { retryAfterSeconds: '7' },
        }),
      ),
      null,
    );
    return;
  }
  const rejections: analyticsV1.Rejection[] = [];
  call.request.events.forEach((e, index) => {
    if (e.tenantId === '') rejections.push({ index, eventId: e.eventId, code: 'INGEST.TENANT_REQUIRED', reason: 'tenant_id is required' });
    else if (e.tenantId !== 'acme')
      rejections.push({ index, eventId: e.eventId, code: 'INGEST.TENANT_MISMATCH', reason: "tenant_id is not the API key's tenant" });
  });
  callback(null, { accepted: call.request.events.length - rejections.length, rejections });
}

let ingest: GrpcServerHandle;
let app: NestFastifyApplication;

interface Response {
  status: number;
  headers: Record<string, unknown>;
  body: Record<string, unknown>;
}

async function post(payload: unknown, headers?: Record<string, string>): Promise<Response> {
  headers ??= { 'x-api-key': KEY };
  const res = await app
    .getHttpAdapter()
    .getInstance()
    .inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'content-type': 'application/json', ...headers },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });
  return { status: res.statusCode, headers: res.headers, body: res.json() };
}

function expectProblem(res: Response, status: number, code: string): void {
  expect(res.headers['content-type']).toContain(PROBLEM_CONTENT_TYPE);
  expect(res.body).toMatchObject({ status, code });
}

const event = (overrides: Record<string, unknown> = {}) => ({
  tenantId: 'acme',
  streamId: 'web',
  eventId: randomUUID(),
  eventType: 'page.view',
  occurredAt: new Date().toISOString(),
  value: 2.5,
  attributes: { country: 'DE' },
  ...overrides,
});

beforeAll(async () => {
  const created = await createTestAuth(['acme']);
  t = created;
  KEY = created.tenantKeys['acme']!;
  const logger = pino({ level: 'silent' });
  ingest = await createGrpcServer({
    port: 0,
    host: '127.0.0.1',
    logger,
    shutdownGraceMs: 200,
    services: [{ definition: analyticsV1.IngestServiceService, implementation: { ingestBatch, ingestStream: () => undefined } }],
  });
  const config = testConfig({ INGEST_ADDR: `127.0.0.1:${ingest.port}`, GATEWAY_BODY_LIMIT_BYTES: String(BODY_LIMIT) });
  app = await startGateway(config, t.auth);
});

afterAll(async () => {
  await app?.close();
  await ingest?.shutdown();
  t?.cleanup();
});

beforeEach(() => {
  received.length = 0;
  kafkaDown = false;
});

describe('POST /v1/events', () => {
  it('forwards the batch with the API key; 200 with the accepted count and per-event rejections in request order', async () => {
    const good = event({ occurredAt: '2025-06-01T12:00:00.250+02:00', attributes: { country: 'DE', plan: 'pro' } });
    const res = await post({
      events: [
        good,
        event({ value: 'lots' }),
        event({ tenantId: 'globex' }),
        event({ tenantId: undefined }),
        { eventId: 'x-1', colour: 'red' },
        event(),
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body['accepted']).toBe(2);
    expect(res.body['rejections']).toEqual([
      { index: 1, eventId: expect.any(String), code: 'EVENTS.MALFORMED_EVENT', reason: expect.stringContaining('value') },
      { index: 2, eventId: expect.any(String), code: 'INGEST.TENANT_MISMATCH', reason: expect.any(String) },
      { index: 3, eventId: expect.any(String), code: 'INGEST.TENANT_REQUIRED', reason: expect.any(String) },
      { index: 4, eventId: 'x-1', code: 'EVENTS.MALFORMED_EVENT', reason: expect.stringContaining('colour') },
    ]);
    // Malformed events never reach ingest; the rest arrive mapped to the contract.
    expect(received).toHaveLength(1);
    expect(received[0]?.apiKey).toBe(KEY);
    expect(received[0]?.events).toHaveLength(4);
    expect(received[0]?.events[0]).toEqual(
      analyticsV1.AnalyticsEvent.fromPartial({ ...good, occurredAt: new Date('2025-06-01T10:00:00.250Z'), value: 2.5 }),
    );
  });

  it('rejects an event with U+0000 in a text field alone, not the whole batch (found by the analytics fuzz e2e)', async () => {
    const res = await post({ events: [event({ streamId: 'w\u0000b' }), event(), event({ attributes: { country: 'D\u0000E' } })] });
    expect(res.status).toBe(200);
    expect(res.body['accepted']).toBe(1);
    expect(res.body['rejections']).toEqual([
      {
        index: 0,
        eventId: expect.any(String),
        code: 'EVENTS.MALFORMED_EVENT',
        reason: expect.stringContaining('streamId: must not contain the NUL character'),
      },
      {
        index: 2,
        eventId: expect.any(String),
        code: 'EVENTS.MALFORMED_EVENT',
        reason: expect.stringContaining('attributes.country: must not contain the NUL character'),
      },
    ]);
    expect(received[0]?.events).toHaveLength(1);
  });

  it('answers 400 problem+json for malformed JSON, a missing events array or more than 1000 events', async () => {
    expectProblem(await post('{"events": [', { 'x-api-key': KEY }), 400, 'HTTP.BAD_REQUEST');
    const missing = await post({ items: [] });
    expectProblem(missing, 400, 'HTTP.INVALID_REQUEST');
    expectProblem(await post({ events: [] }), 400, 'HTTP.INVALID_REQUEST');
    const tooMany = await post({ events: Array.from({ length: 1001 }, () => ({})) });
    expectProblem(tooMany, 400, 'HTTP.INVALID_REQUEST');
    expect(tooMany.body['errors']).toEqual([{ field: 'events', description: expect.any(String) }]);
    expect(received).toHaveLength(0);
  });

  it('answers 413 for a body over the byte limit', async () => {
    const big = { events: Array.from({ length: 300 }, () => event({ attributes: { note: 'x'.repeat(250) } })) };
    expectProblem(await post(big), 413, 'HTTP.PAYLOAD_TOO_LARGE');
  });

  it('answers 401 at the edge when the credential is missing or unknown, without calling ingest', async () => {
    expectProblem(await post({ events: [event()] }, {}), 401, 'AUTH.CREDENTIALS_REQUIRED');
    expectProblem(await post({ events: [event()] }, { 'x-api-key': 'wrong-key-123' }), 401, 'AUTH.API_KEY_INVALID');
    expect(received).toHaveLength(0);
  });

  it('answers 503 problem+json with Retry-After from ingest when it cannot store events', async () => {
    kafkaDown = true;
    const res = await post({ events: [event(), event()] });
    expectProblem(res, 503, 'INGEST.KAFKA_UNAVAILABLE');
    expect(res.headers['retry-after']).toBe('7');
  });
});
