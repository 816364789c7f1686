/**
 * Authentication and authorisation at the edge, against the real gateway app (guard, problem filter, helmet) with
 * real ES256 tokens from a dev issuer in a temp dir and real hashed API keys, in front of REAL gRPC servers on
 * ephemeral ports that record what metadata reached them. Forged tokens are built by hand (alg none, HS256,
 * swapped signature, tampered payload). Each test uses its own client IP (X-Forwarded-For, trusted here), so the
 * per-IP auth-failure bucket of one test never throttles another.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { analyticsV1, paymentsV1 } from '@tessera/contracts';
import { AppError, PROBLEM_CONTENT_TYPE } from '@tessera/errors';
import type { ServerWritableStream } from '@grpc/grpc-js';
import { createGrpcServer, type GrpcServerHandle, unaryService, type UnaryImplementation, wrapUnary } from '@tessera/grpc';
import pino from 'pino';
import { createTestAuth, startGateway, type TestAuth, testConfig } from './support/edge';

jest.setTimeout(30_000);

const ACCOUNT_ID = '0b9a1a52-2f57-4c4e-9d59-1f0a6e4b2c11';
const seen: { method: string; authorization: string[]; apiKey: string[]; principal: string[] }[] = [];

function unused(): never {
  throw new AppError({ code: 'TEST.UNUSED', kind: 'FAILED_PRECONDITION', message: 'unused' });
}
function record(method: string, metadata: { get(key: string): unknown[] }): void {
  seen.push({
    method,
    authorization: metadata.get('authorization').map(String),
    apiKey: metadata.get('x-api-key').map(String),
    principal: metadata.get('x-tessera-principal').map(String),
  });
}

const accounts: UnaryImplementation<typeof paymentsV1.AccountServiceService> = {
  async openAccount(req, ctx) {
    record('OpenAccount', ctx.metadata);
    return {
      account: paymentsV1.Account.fromPartial({ id: randomUUID(), ownerId: req.ownerId, currency: req.currency, createdAt: new Date() }),
    };
  },
  async getAccount(req, ctx) {
    record('GetAccount', ctx.metadata);
    return { account: paymentsV1.Account.fromPartial({ id: req.accountId, ownerId: 'cust-1', currency: 'EUR', createdAt: new Date() }) };
  },
  listAccounts: unused,
  freezeAccount: unused,
  closeAccount: unused,
  getBalance: unused,
};
const logger = pino({ level: 'silent' });
const insights = {
  getAggregates: wrapUnary(
    async (_req: analyticsV1.GetAggregatesRequest, ctx) => {
      record('GetAggregates', ctx.metadata);
      return { aggregates: [], page: { nextPageToken: '' } };
    },
    { logger },
  ),
  getTopN: wrapUnary(async () => unused(), { logger }),
  streamAggregates: (call: ServerWritableStream<analyticsV1.StreamAggregatesRequest, analyticsV1.StreamAggregatesResponse>) => call.end(),
};

let grpc: GrpcServerHandle;
let app: NestFastifyApplication;
let t: TestAuth;
let ipCounter = 0;

interface Res {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: Record<string, unknown>;
}
async function get(url: string, headers: Record<string, string> = {}, ip = nextIp()): Promise<Res> {
  const res = await app.inject({ method: 'GET', url, headers: { 'x-forwarded-for': ip, ...headers } });
  return { status: res.statusCode, headers: res.headers, body: res.json<Record<string, unknown>>() };
}
async function post(url: string, payload: object, headers: Record<string, string> = {}, ip = nextIp()): Promise<Res> {
  const res = await app.inject({
    method: 'POST',
    url,
    payload,
    headers: { 'x-forwarded-for': ip, 'idempotency-key': `key-${randomUUID()}`, ...headers },
  });
  return { status: res.statusCode, headers: res.headers, body: res.json<Record<string, unknown>>() };
}
function nextIp(): string {
  ipCounter += 1;
  return `10.0.${Math.floor(ipCounter / 250)}.${(ipCounter % 250) + 1}`;
}
function expectProblem(res: Res, status: number, code: string): void {
  expect({ status: res.status, code: res.body['code'] }).toEqual({ status, code });
  expect(String(res.headers['content-type'])).toContain(PROBLEM_CONTENT_TYPE);
}

const b64url = (value: object | string) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
function parts(jwt: string): { header: Record<string, unknown>; payload: Record<string, unknown>; signature: string } {
  const [h, p, s] = jwt.split('.');
  return {
    header: JSON.parse(Buffer.from(h ?? '', 'base64url').toString()),
    payload: JSON.parse(Buffer.from(p ?? '', 'base64url').toString()),
    signature: s ?? '',
  };
}

beforeAll(async () => {
  t = await createTestAuth();
  grpc = await createGrpcServer({
    port: 0,
    host: '127.0.0.1',
    logger,
    shutdownGraceMs: 200,
    services: [
      {
        definition: paymentsV1.AccountServiceService,
        implementation: unaryService(paymentsV1.AccountServiceService, accounts, { logger }),
      },
      { definition: analyticsV1.InsightsServiceService, implementation: insights },
    ],
  });
  const addr = `127.0.0.1:${grpc.port}`;
  app = await startGateway(
    testConfig({
      TRANSACTIONS_ADDR: addr,
      COMPLIANCE_ADDR: addr,
      INSIGHTS_ADDR: addr,
      GATEWAY_TRUST_PROXY: 'true',
      GATEWAY_RATE_LIMITS: 'auth-failure=5/60s',
    }),
    t.auth,
  );
});

afterAll(async () => {
  await app?.close();
  await grpc?.shutdown();
  t?.cleanup();
});

describe('bearer tokens', () => {
  it('lets a valid token through and forwards it verbatim as authorization metadata, never a principal header', async () => {
    const token = await t.token('ops-anna', ['operator']);
    const res = await get(`/v1/accounts/${ACCOUNT_ID}`, { authorization: `Bearer ${token}`, 'x-tessera-principal': 'someone-else' });
    expect(res.status).toBe(200);
    expect(seen.at(-1)).toEqual({ method: 'GetAccount', authorization: [`Bearer ${token}`], apiKey: [], principal: [] });
  });

  it('answers a request without credentials with 401 AUTH.TOKEN_REQUIRED and a Bearer challenge, without calling upstream', async () => {
    const before = seen.length;
    const res = await get(`/v1/accounts/${ACCOUNT_ID}`);
    expectProblem(res, 401, 'AUTH.TOKEN_REQUIRED');
    expect(res.headers['www-authenticate']).toBe('Bearer realm="tessera"');
    expect(seen.length).toBe(before);
  });

  it.each<[string, string, () => Promise<string>]>([
    ['expired', 'AUTH.TOKEN_EXPIRED', () => t.token('u', ['operator'], { issuedAt: Math.floor(Date.now() / 1000) - 3600, ttlSec: 600 })],
    ['not yet valid', 'AUTH.TOKEN_NOT_YET_VALID', () => t.token('u', ['operator'], { notBefore: Math.floor(Date.now() / 1000) + 600 })],
    ['for another audience', 'AUTH.TOKEN_INVALID', () => t.token('u', ['operator'], { audience: 'someone-else-api' })],
    ['from another issuer', 'AUTH.TOKEN_INVALID', () => t.token('u', ['operator'], { issuer: 'https://evil.example/' })],
    [
      'alg none',
      'AUTH.TOKEN_INVALID',
      async () => {
        const { header, payload } = parts(await t.token('u', ['operator']));
        return `${b64url({ ...header, alg: 'none' })}.${b64url(payload)}.`;
      },
    ],
    [
      'HS256 signed with the public JWKS as secret',
      'AUTH.TOKEN_INVALID',
      async () => {
        const { header, payload } = parts(await t.token('u', ['operator']));
        const signingInput = `${b64url({ ...header, alg: 'HS256' })}.${b64url(payload)}`;
        return `${signingInput}.${createHmac('sha256', JSON.stringify(t.issuer.publishedKids())).update(signingInput).digest('base64url')}`;
      },
    ],
    [
      "with a forged signature (another token's)",
      'AUTH.TOKEN_INVALID',
      async () => {
        const [h, p] = (await t.token('u', ['customer'])).split('.');
        const other = parts(await t.token('v', ['operator']));
        return `${h}.${p}.${other.signature}`;
      },
    ],
    [
      'with a tampered payload (customer made operator)',
      'AUTH.TOKEN_INVALID',
      async () => {
        const jwt = await t.token('u', ['customer']);
        const { header, payload, signature } = parts(jwt);
        return `${b64url(header)}.${b64url({ ...payload, roles: ['operator'] })}.${signature}`;
      },
    ],
    [
      'signed by a key the JWKS does not list (unknown kid)',
      'AUTH.UNKNOWN_KEY',
      async () => {
        const stranger = await createTestAuth();
        try {
          return await stranger.token('u', ['operator']);
        } finally {
          stranger.cleanup();
        }
      },
    ],
    ['that is not a JWT at all', 'AUTH.TOKEN_INVALID', async () => 'not-a-jwt'],
  ])('refuses a token %s with 401 %s', async (_label, code, make) => {
    const res = await get(`/v1/accounts/${ACCOUNT_ID}`, { authorization: `Bearer ${await make()}` });
    expectProblem(res, 401, code);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="tessera", error="invalid_token"');
    expect(JSON.stringify(res.body)).not.toMatch(/eyJ/); // the token is never echoed
  });

  it('refuses a non-Bearer Authorization scheme', async () => {
    expectProblem(await get(`/v1/accounts/${ACCOUNT_ID}`, { authorization: 'Basic dXNlcjpwYXNz' }), 401, 'AUTH.TOKEN_INVALID');
  });

  it("answers a valid token without the route's scope with 403 AUTH.SCOPE_REQUIRED", async () => {
    const customer = await t.bearer('cust-1', ['customer']);
    const res = await post('/v1/accounts', { ownerId: 'cust-1', type: 'ASSET', currency: 'EUR' }, customer);
    expectProblem(res, 403, 'AUTH.SCOPE_REQUIRED');
    const auditor = await t.bearer('aud-1', ['auditor']);
    // alerts:read passes the edge (what upstream then answers is not the point here: it does not host ComplianceService).
    expect([401, 403]).not.toContain((await get('/v1/compliance/alerts', auditor)).status);
    expectProblem(
      await post(`/v1/compliance/alerts/${randomUUID()}/resolve`, { resolution: 'RELEASE', note: 'n' }, auditor),
      403,
      'AUTH.SCOPE_REQUIRED',
    );
  });

  it('narrows scopes with the scope claim: an operator token scoped to accounts:read cannot write', async () => {
    const narrow = await t.bearer('ops-ben', ['operator'], { scope: 'accounts:read' });
    expect((await get(`/v1/accounts/${ACCOUNT_ID}`, narrow)).status).toBe(200);
    expectProblem(await post('/v1/accounts', { ownerId: 'cust-1', type: 'ASSET', currency: 'EUR' }, narrow), 403, 'AUTH.SCOPE_REQUIRED');
  });
});

describe('API keys', () => {
  it('are accepted only on routes that allow them', async () => {
    expectProblem(await get(`/v1/accounts/${ACCOUNT_ID}`, { 'x-api-key': t.apiKey('demo') }), 401, 'AUTH.TOKEN_REQUIRED');
  });

  it("read their own tenant's insights, forwarded as x-api-key metadata", async () => {
    const key = t.apiKey('demo');
    const res = await get('/v1/insights/aggregates?tenantId=demo', { 'x-api-key': key });
    expect(res.status).toBe(200);
    expect(seen.at(-1)).toEqual({ method: 'GetAggregates', authorization: [], apiKey: [key], principal: [] });
  });

  it("are refused with 403 AUTH.TENANT_FORBIDDEN for another tenant's data, before calling upstream", async () => {
    const before = seen.length;
    expectProblem(await get('/v1/insights/aggregates?tenantId=payments', { 'x-api-key': t.apiKey('demo') }), 403, 'AUTH.TENANT_FORBIDDEN');
    const staff = await t.bearer('ops-cleo', ['operator']);
    expectProblem(await get('/v1/insights/aggregates?tenantId=demo', staff), 403, 'AUTH.SCOPE_REQUIRED');
    const otherTenantToken = await t.bearer('svc-1', ['ingest'], { tenant: 'payments' });
    expectProblem(await get('/v1/insights/aggregates?tenantId=demo', otherTenantToken), 403, 'AUTH.TENANT_FORBIDDEN');
    expect(seen.length).toBe(before);
  });

  it('answers an unknown, malformed or revoked key with the same 401 AUTH.API_KEY_INVALID', async () => {
    const { key, record: created } = t.issuer.createApiKey('demo');
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the store re-reads its file at most once a second
    expect((await get('/v1/insights/aggregates?tenantId=demo', { 'x-api-key': key })).status).toBe(200);
    t.issuer.revokeApiKey(created.id);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the store re-reads its file at most once a second
    expectProblem(await get('/v1/insights/aggregates?tenantId=demo', { 'x-api-key': key }), 401, 'AUTH.API_KEY_INVALID');
    expectProblem(
      await get('/v1/insights/aggregates?tenantId=demo', { 'x-api-key': `${key.slice(0, -4)}AAAA` }),
      401,
      'AUTH.API_KEY_INVALID',
    );
    expectProblem(await get('/v1/insights/aggregates?tenantId=demo', { 'x-api-key': 'garbage' }), 401, 'AUTH.API_KEY_INVALID');
  });

  it('do not work as query parameters outside the live route (URLs get logged)', async () => {
    expectProblem(await get(`/v1/insights/aggregates?tenantId=demo&apiKey=${t.apiKey('demo')}`), 401, 'AUTH.CREDENTIALS_REQUIRED');
  });
});

describe('auth failures per IP', () => {
  it('throttles an IP after repeated bad credentials (429 + Retry-After), even for a then-valid token; other IPs unaffected', async () => {
    const ip = '192.0.2.77';
    for (let i = 0; i < 5; i += 1)
      expectProblem(await get(`/v1/accounts/${ACCOUNT_ID}`, { authorization: 'Bearer nope' }, ip), 401, 'AUTH.TOKEN_INVALID');
    const good = await t.bearer('ops-dan', ['operator']);
    const throttled = await get(`/v1/accounts/${ACCOUNT_ID}`, good, ip);
    expectProblem(throttled, 429, 'HTTP.RATE_LIMITED');
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await get(`/v1/accounts/${ACCOUNT_ID}`, good, '192.0.2.78')).status).toBe(200);
  });
});

describe('public routes', () => {
  it('serve /health without credentials', async () => {
    const res = await get('/health');
    expect([200, 503]).toContain(res.status);
    expect(res.body['status']).toEqual(expect.any(String));
  });
});
