/**
 * The gateway in-process (real Nest + Fastify app, real Kafka admin/producer on 127.0.0.1:19092) in front
 * of a REAL gRPC AccountService on an ephemeral port, served by an in-test implementation. Requests go
 * through Fastify's inject, so routing, body parsing, pipes and the problem filter all run for real.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { paymentsV1 } from '@tessera/contracts';
import { AppError, PROBLEM_CONTENT_TYPE } from '@tessera/errors';
import { createGrpcServer, type GrpcServerHandle, unaryService, type UnaryImplementation } from '@tessera/grpc';
import pino from 'pino';
import { createTestAuth, startGateway, type TestAuth, testConfig } from './support/edge';

jest.setTimeout(30_000);

const Svc = paymentsV1.AccountServiceService;
const KNOWN_ID = '0b9a1a52-2f57-4c4e-9d59-1f0a6e4b2c11';
const BODY_LIMIT = 1024;
const received: paymentsV1.OpenAccountRequest[] = [];

const stored = paymentsV1.Account.fromPartial({
  id: KNOWN_ID,
  ownerId: 'cust-1',
  name: 'Main',
  type: paymentsV1.AccountType.ACCOUNT_TYPE_ASSET,
  currency: 'EUR',
  status: paymentsV1.AccountStatus.ACCOUNT_STATUS_ACTIVE,
  overdraftLimitMinor: 9_223_372_036_854_775_807n,
  version: 2n,
  createdAt: new Date('2026-01-02T03:04:05.678Z'),
});

const notYet = async (): Promise<never> => {
  throw new AppError({ code: 'TEST.UNUSED', kind: 'FAILED_PRECONDITION', message: 'unused' });
};
const implementation: UnaryImplementation<typeof Svc> = {
  async openAccount(req) {
    received.push(req);
    return { account: { ...stored, id: randomUUID(), ownerId: req.ownerId, overdraftLimitMinor: req.overdraftLimitMinor } };
  },
  async getAccount(req) {
    if (req.accountId === KNOWN_ID) return { account: stored };
    throw new AppError({
      code: 'PAYMENTS.ACCOUNT_NOT_FOUND',
      kind: 'NOT_FOUND',
      message: 'No such account',
      metadata: { accountId: req.accountId },
    });
  },
  listAccounts: notYet,
  freezeAccount: notYet,
  closeAccount: notYet,
  getBalance: notYet,
};

let grpc: GrpcServerHandle;
let app: NestFastifyApplication;
let t: TestAuth;
let operator: string;

async function request(options: { method: 'GET' | 'POST'; url: string; payload?: string | object; headers?: Record<string, string> }) {
  const res = await app.inject({ ...options, headers: { authorization: operator, ...options.headers } });
  return { status: res.statusCode, contentType: String(res.headers['content-type'] ?? ''), body: res.json<Record<string, unknown>>() };
}

const validBody = { ownerId: 'cust-1', type: 'ASSET', currency: 'EUR', overdraftLimitMinor: '9223372036854775807' };

beforeAll(async () => {
  t = await createTestAuth();
  operator = `Bearer ${await t.token('ops-anna', ['operator'])}`;
  const logger = pino({ level: 'silent' });
  grpc = await createGrpcServer({
    port: 0,
    host: '127.0.0.1',
    logger,
    services: [{ definition: Svc, implementation: unaryService(Svc, implementation, { logger }) }],
    shutdownGraceMs: 500,
  });
  const config = testConfig({
    TRANSACTIONS_ADDR: `127.0.0.1:${grpc.port}`,
    // The same server stands in for compliance's overall health; its routes are covered in routes.int-spec.ts.
    COMPLIANCE_ADDR: `127.0.0.1:${grpc.port}`,
    GATEWAY_GRPC_DEADLINE_MS: '2000',
    GATEWAY_HEALTH_TIMEOUT_MS: '1000',
    GATEWAY_BODY_LIMIT_BYTES: String(BODY_LIMIT),
  });
  app = await startGateway(config, t.auth);
});

afterAll(async () => {
  await app?.close();
  await grpc?.shutdown();
  t?.cleanup();
});

describe('gateway over a live AccountService', () => {
  it('opens an account: 201, bigint as an exact string, the key forwarded', async () => {
    const res = await request({ method: 'POST', url: '/v1/accounts', payload: validBody, headers: { 'idempotency-key': 'key-00000001' } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ ownerId: 'cust-1', type: 'ASSET', status: 'ACTIVE', overdraftLimitMinor: '9223372036854775807' });
    expect(received.at(-1)).toMatchObject({
      idempotencyKey: 'key-00000001',
      overdraftLimitMinor: 9_223_372_036_854_775_807n,
      currency: 'EUR',
    });
  });

  it('reads an account', async () => {
    const res = await request({ method: 'GET', url: `/v1/accounts/${KNOWN_ID}` });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: KNOWN_ID, version: '2', createdAt: '2026-01-02T03:04:05.678Z' });
  });

  it('answers malformed JSON with a 400 problem', async () => {
    const res = await request({
      method: 'POST',
      url: '/v1/accounts',
      payload: '{"ownerId": ',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'key-00000002' },
    });
    expect(res.status).toBe(400);
    expect(res.contentType).toContain(PROBLEM_CONTENT_TYPE);
    expect(res.body).toMatchObject({ status: 400, code: 'HTTP.BAD_REQUEST', instance: expect.stringMatching(/^urn:tessera:request:/) });
  });

  it('answers an oversize body with a 413 problem', async () => {
    const payload = { ...validBody, name: 'x'.repeat(BODY_LIMIT) };
    const res = await request({ method: 'POST', url: '/v1/accounts', payload, headers: { 'idempotency-key': 'key-00000003' } });
    expect(res.status).toBe(413);
    expect(res.contentType).toContain(PROBLEM_CONTENT_TYPE);
    expect(res.body).toMatchObject({ status: 413, code: 'HTTP.PAYLOAD_TOO_LARGE' });
  });

  it('lists every invalid body field in one 400 problem, before calling upstream', async () => {
    const before = received.length;
    const res = await request({
      method: 'POST',
      url: '/v1/accounts',
      payload: { ownerId: '', type: 'CASH', currency: 'eur', overdraftLimitMinor: 1.5 },
      headers: { 'idempotency-key': 'key-00000004' },
    });
    expect(res.status).toBe(400);
    expect(res.body['code']).toBe('HTTP.INVALID_REQUEST');
    expect((res.body['errors'] as { field: string }[]).map((e) => e.field).sort()).toEqual([
      'currency',
      'overdraftLimitMinor',
      'ownerId',
      'type',
    ]);
    expect(received.length).toBe(before);
  });

  it('requires an Idempotency-Key on POST', async () => {
    const res = await request({ method: 'POST', url: '/v1/accounts', payload: validBody });
    expect(res.status).toBe(400);
    expect(res.contentType).toContain(PROBLEM_CONTENT_TYPE);
    expect(res.body).toMatchObject({
      code: 'HTTP.IDEMPOTENCY_KEY_REQUIRED',
      errors: [{ field: 'Idempotency-Key', description: 'required' }],
    });
  });

  it('rejects a too-short Idempotency-Key and a malformed id, naming the header / parameter', async () => {
    const key = await request({ method: 'POST', url: '/v1/accounts', payload: validBody, headers: { 'idempotency-key': 'short' } });
    expect(key.status).toBe(400);
    expect(key.body).toMatchObject({
      code: 'HTTP.INVALID_IDEMPOTENCY_KEY',
      errors: [{ field: 'Idempotency-Key', description: 'must be 8 to 128 characters' }],
    });
    const id = await request({ method: 'GET', url: '/v1/accounts/not-a-uuid' });
    expect(id.status).toBe(400);
    expect(id.body).toMatchObject({ code: 'HTTP.INVALID_ID', errors: [{ field: 'id', description: 'must be a UUID' }] });
  });

  it('maps upstream NOT_FOUND to a 404 problem carrying the upstream code', async () => {
    const res = await request({ method: 'GET', url: `/v1/accounts/${randomUUID()}` });
    expect(res.status).toBe(404);
    expect(res.contentType).toContain(PROBLEM_CONTENT_TYPE);
    expect(res.body).toMatchObject({ status: 404, code: 'PAYMENTS.ACCOUNT_NOT_FOUND', detail: 'No such account' });
  });

  it('answers an unknown route with a 404 problem', async () => {
    const res = await request({ method: 'GET', url: '/v1/nope' });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: 'HTTP.ROUTE_NOT_FOUND', instance: expect.stringMatching(/^urn:tessera:request:/) });
  });

  it('reports healthy while transactions, compliance and Kafka answer', async () => {
    const res = await request({ method: 'GET', url: '/health' });
    expect(res.body).toMatchObject({
      status: 'up',
      checks: { transactions: { status: 'up' }, postgres: { status: 'up' }, compliance: { status: 'up' }, kafka: { status: 'up' } },
    });
    expect(res.status).toBe(200);
  });

  describe('when the transactions service is down', () => {
    beforeAll(async () => {
      await grpc.shutdown();
    });

    it('answers a POST with a 503 UNAVAILABLE problem', async () => {
      const res = await request({
        method: 'POST',
        url: '/v1/accounts',
        payload: validBody,
        headers: { 'idempotency-key': 'key-00000005' },
      });
      expect(res.status).toBe(503);
      expect(res.contentType).toContain(PROBLEM_CONTENT_TYPE);
      expect(res.body).toMatchObject({ status: 503, title: 'Service Unavailable' });
    });

    it('answers a (retried) GET with a 503 problem too', async () => {
      const res = await request({ method: 'GET', url: `/v1/accounts/${KNOWN_ID}` });
      expect(res.status).toBe(503);
    });

    it('reports /health 503 naming the dead dependency', async () => {
      const res = await request({ method: 'GET', url: '/health' });
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({
        status: 'down',
        checks: { transactions: { status: 'down', detail: expect.any(String) }, kafka: { status: 'up' } },
      });
    });
  });
});
