/**
 * The HTTP edge over a REAL listening socket (fetch and raw `net` sockets, not inject): rate limits engage and
 * recover, oversize bodies get 413, a slowloris body is cut by the request timeout, helmet headers, the CORS
 * allow-list, X-Request-Id, and the graceful drain at close (last, since it closes the app). The upstream is a real
 * gRPC AccountService on an ephemeral port whose GetAccount can be made slow.
 */
import { connect } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { paymentsV1 } from '@tessera/contracts';
import { AppError } from '@tessera/errors';
import { createGrpcServer, type GrpcServerHandle, unaryService, type UnaryImplementation } from '@tessera/grpc';
import pino from 'pino';
import { createGatewayApp } from '../src/http/app-setup';
import { createTestAuth, type TestAuth, testConfig } from './support/edge';

jest.setTimeout(30_000);

const SLOW_ID = '99999999-9999-4999-8999-999999999999';
const ACCOUNT_ID = '0b9a1a52-2f57-4c4e-9d59-1f0a6e4b2c11';
const REQUEST_TIMEOUT_MS = 1000;
const BODY_LIMIT = 2048;
const ALLOWED_ORIGIN = 'https://console.example.com';

const unused = async (): Promise<never> => {
  throw new AppError({ code: 'TEST.UNUSED', kind: 'FAILED_PRECONDITION', message: 'unused' });
};
const accounts: UnaryImplementation<typeof paymentsV1.AccountServiceService> = {
  async getAccount(req) {
    if (req.accountId === SLOW_ID) await new Promise((resolve) => setTimeout(resolve, 1500));
    return { account: paymentsV1.Account.fromPartial({ id: req.accountId, ownerId: 'cust-1', currency: 'EUR', createdAt: new Date() }) };
  },
  async openAccount(req) {
    return {
      account: paymentsV1.Account.fromPartial({ id: ACCOUNT_ID, ownerId: req.ownerId, currency: req.currency, createdAt: new Date() }),
    };
  },
  listAccounts: unused,
  freezeAccount: unused,
  closeAccount: unused,
  getBalance: unused,
};

let grpc: GrpcServerHandle;
let app: NestFastifyApplication;
let t: TestAuth;
let base: string;
let port: number;

beforeAll(async () => {
  t = await createTestAuth();
  const logger = pino({ level: 'silent' });
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
    ],
  });
  const addr = `127.0.0.1:${grpc.port}`;
  const config = testConfig({
    TRANSACTIONS_ADDR: addr,
    COMPLIANCE_ADDR: addr,
    GATEWAY_GRPC_DEADLINE_MS: '5000',
    GATEWAY_BODY_LIMIT_BYTES: String(BODY_LIMIT),
    GATEWAY_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    GATEWAY_HEADERS_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    GATEWAY_SHUTDOWN_GRACE_MS: '5000',
    GATEWAY_CORS_ORIGINS: ALLOWED_ORIGIN,
    GATEWAY_RATE_LIMITS: 'read=10000/1s,write=3/2s,public=10000/1s,auth-failure=10000/1s',
  });
  app = await createGatewayApp(config, t.auth, { logger: false });
  await app.listen(0, '127.0.0.1');
  port = (app.getHttpServer().address() as { port: number }).port;
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await app?.close().catch(() => undefined);
  await grpc?.shutdown();
  t?.cleanup();
});

const openBody = JSON.stringify({ ownerId: 'cust-1', type: 'ASSET', currency: 'EUR' });
let keyCounter = 0;
async function openAccount(auth: Record<string, string>): Promise<Response> {
  keyCounter += 1;
  return fetch(`${base}/v1/accounts`, {
    method: 'POST',
    body: openBody,
    headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': `hygiene-${keyCounter}-key` },
  });
}

describe('rate limits', () => {
  it('engage per client and route class with 429 + Retry-After, and recover after the advertised time', async () => {
    const anna = await t.bearer('ops-anna', ['operator']);
    const ok = [await openAccount(anna), await openAccount(anna), await openAccount(anna)];
    expect(ok.map((r) => r.status)).toEqual([201, 201, 201]);
    expect(ok[0]?.headers.get('ratelimit-limit')).toBe('3');
    expect(ok.map((r) => r.headers.get('ratelimit-remaining'))).toEqual(['2', '1', '0']);

    const limited = await openAccount(anna);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toContain('application/problem+json');
    expect(await limited.json()).toMatchObject({ code: 'HTTP.RATE_LIMITED', status: 429 });
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);

    // Another client and another route class still have their own buckets.
    expect((await openAccount(await t.bearer('ops-ben', ['operator']))).status).toBe(201);
    expect((await fetch(`${base}/v1/accounts/${ACCOUNT_ID}`, { headers: anna })).status).toBe(200);

    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000 + 50));
    expect((await openAccount(anna)).status).toBe(201);
  });
});

describe('request size and time limits', () => {
  it('answers an oversize body with 413 problem+json', async () => {
    const res = await fetch(`${base}/v1/accounts`, {
      method: 'POST',
      body: JSON.stringify({ ownerId: 'x'.repeat(BODY_LIMIT), type: 'ASSET', currency: 'EUR' }),
      headers: { ...(await t.bearer('ops-cara', ['operator'])), 'content-type': 'application/json', 'idempotency-key': 'hygiene-413-key' },
    });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(await res.json()).toMatchObject({ code: 'HTTP.PAYLOAD_TOO_LARGE', status: 413, title: 'Payload Too Large' });
  });

  it('refuses a body that is not UTF-8 or holds an unpaired surrogate, instead of storing U+FFFD (issue #13)', async () => {
    const headers = async (key: string) => ({
      ...(await t.bearer('ops-cara', ['operator'])),
      'content-type': 'application/json',
      'idempotency-key': key,
    });
    const post = async (body: Buffer | string, key: string) =>
      fetch(`${base}/v1/accounts`, { method: 'POST', body, headers: await headers(key) });
    const invalidBytes = Buffer.concat([
      Buffer.from('{"ownerId":"caf'),
      Buffer.from([0xe9]),
      Buffer.from('","type":"ASSET","currency":"EUR"}'),
    ]);
    for (const [name, body] of [
      ['latin-1 byte', invalidBytes],
      ['lone surrogate escape', '{"ownerId":"a\\ud800b","type":"ASSET","currency":"EUR"}'],
      ['lone surrogate in a key', '{"ownerId":"a","type":"ASSET","currency":"EUR","\\udc00":1}'],
    ] as const) {
      const res = await post(body, `hygiene-utf8-${name.replace(/\W/g, '-')}`);
      expect({ name, status: res.status, type: res.headers.get('content-type') }).toEqual({
        name,
        status: 400,
        type: expect.stringContaining('application/problem+json'),
      });
      expect(await res.json()).toMatchObject({ code: 'HTTP.INVALID_UTF8', title: 'Bad Request' });
    }
    // Real text in any script passes, and so does an escaped pair (one astral character).
    const ok = await post('{"ownerId":"Zoë 💶 \\ud83d\\udcb6","type":"ASSET","currency":"EUR"}', 'hygiene-utf8-ok');
    expect(ok.status).toBe(201);
    // Fastify's JSON checks still run behind the UTF-8 check.
    const poisoned = await post('{"ownerId":"a","type":"ASSET","currency":"EUR","__proto__":{"x":1}}', 'hygiene-utf8-proto');
    expect(poisoned.status).toBe(400);
    const broken = await post('{"ownerId":', 'hygiene-utf8-broken');
    expect(await broken.json()).toMatchObject({ status: 400, code: 'HTTP.BAD_REQUEST' });
    // Query strings: escapes that are not UTF-8 were kept as the raw text (`a%FFb`).
    const query = await fetch(`${base}/v1/accounts/${ACCOUNT_ID}?x=a%FFb`, { headers: await t.bearer('ops-cara', ['operator']) });
    expect(query.status).toBe(400);
    expect(await query.json()).toMatchObject({ code: 'HTTP.INVALID_UTF8' });
  });

  it('cuts off a slowloris client that trickles its body past the request timeout', async () => {
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (chunk) => received.push(chunk));
    const started = Date.now();
    const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now() - started)));
    socket.write(`POST /v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`);
    const drip = setInterval(() => {
      if (!socket.destroyed) socket.write(' ');
    }, 100);
    const elapsed = await closed;
    clearInterval(drip);
    // Node checks the timeout every REQUEST_TIMEOUT_MS/4 here; without the limit the drip would last 100 s.
    expect(elapsed).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
    expect(elapsed).toBeLessThan(REQUEST_TIMEOUT_MS * 3);
    const response = Buffer.concat(received).toString();
    expect(response).toMatch(/^HTTP\/1\.1 408/);
    expect(response).toMatch(/\r\nContent-Type: application\/problem\+json\r\n/i);
    expect(JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4))).toMatchObject({
      status: 408,
      title: 'Request Timeout',
      code: 'HTTP.REQUEST_TIMEOUT',
    });
  });

  /** Raw request over a socket; the whole response once the server closes (or 2 s). */
  async function raw(request: string): Promise<{ head: string; body: string }> {
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (chunk) => received.push(chunk));
    socket.on('error', () => undefined);
    socket.write(request);
    await new Promise((resolve) => {
      socket.on('close', resolve);
      setTimeout(resolve, 2000);
    });
    socket.destroy();
    const text = Buffer.concat(received).toString();
    const split = text.indexOf('\r\n\r\n');
    return { head: text.slice(0, split), body: text.slice(split + 4) };
  }

  it("answers every error Fastify or Node raise before a route runs with problem+json and the status's own title (issue #13)", async () => {
    const cases: Array<{ name: string; request: string; status: number; title: string; code: string }> = [
      {
        name: 'bad percent-encoding',
        request: 'GET /v1/accounts/%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
        status: 400,
        title: 'Bad Request',
        code: 'HTTP.BAD_URL',
      },
      {
        name: 'path segment over maxParamLength',
        request: `GET /v1/accounts/${'a'.repeat(300)}?apiKey=secret-in-url HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
        status: 414,
        title: 'URI Too Long',
        code: 'HTTP.URI_TOO_LONG',
      },
      {
        name: 'headers over the size limit',
        request: `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
        status: 431,
        title: 'Request Header Fields Too Large',
        code: 'HTTP.HEADERS_TOO_LARGE',
      },
      { name: 'unparsable request line', request: 'GARBAGE\r\n\r\n', status: 400, title: 'Bad Request', code: 'HTTP.MALFORMED_REQUEST' },
    ];
    for (const c of cases) {
      const { head, body } = await raw(c.request);
      expect({ name: c.name, status: head.slice(0, 12) }).toEqual({ name: c.name, status: `HTTP/1.1 ${c.status}` });
      expect({ name: c.name, problem: /\r\ncontent-type: application\/problem\+json/i.test(head) }).toEqual({
        name: c.name,
        problem: true,
      });
      const problem = JSON.parse(body) as Record<string, unknown>;
      expect({ name: c.name, ...problem }).toMatchObject({
        name: c.name,
        status: c.status,
        title: c.title,
        code: c.code,
        instance: expect.stringMatching(/^urn:tessera:request:/),
      });
      expect(body).not.toContain('secret-in-url');
      expect(body).not.toContain('aaaaaaaaaa');
    }
  });
});

describe('headers', () => {
  it("sends helmet's security headers", async () => {
    const res = await fetch(`${base}/health`);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('strict-transport-security')).toContain('max-age=');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  it('allows a listed origin (preflight and response) and gives a refused origin no CORS grant', async () => {
    const preflight = await fetch(`${base}/v1/accounts`, {
      method: 'OPTIONS',
      headers: {
        origin: ALLOWED_ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,idempotency-key,content-type',
      },
    });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('idempotency-key');
    const allowed = await fetch(`${base}/health`, { headers: { origin: ALLOWED_ORIGIN } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    expect(allowed.headers.get('access-control-expose-headers')).toContain('x-request-id');

    const refused = await fetch(`${base}/health`, { headers: { origin: 'https://evil.example' } });
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    const refusedPreflight = await fetch(`${base}/v1/accounts`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(refusedPreflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('echoes a sane X-Request-Id, replaces an insane one, and names the request in problem bodies', async () => {
    const echoed = await fetch(`${base}/v1/accounts/${ACCOUNT_ID}`, { headers: { 'x-request-id': 'client-req-0001' } });
    expect(echoed.headers.get('x-request-id')).toBe('client-req-0001');
    expect(await echoed.json()).toMatchObject({ status: 401, instance: 'urn:tessera:request:client-req-0001' });
    const replaced = await fetch(`${base}/health`, { headers: { 'x-request-id': '<script>' } });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const generated = await fetch(`${base}/health`);
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('graceful shutdown', () => {
  it('lets an in-flight request finish while refusing new connections', async () => {
    const auth = await t.bearer('ops-dora', ['operator']);
    const inFlight = fetch(`${base}/v1/accounts/${SLOW_ID}`, { headers: { ...auth, connection: 'close' } });
    await new Promise((resolve) => setTimeout(resolve, 300)); // the request has reached the slow upstream
    const closing = app.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await expect(fetch(`${base}/health`, { headers: { connection: 'close' } })).rejects.toThrow();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: SLOW_ID });
    await closing;
  });
});
