/**
 * Every issue-#3 route of the gateway, in-process (real Nest + Fastify, real Kafka admin/producer on 127.0.0.1:19092),
 * against REAL gRPC servers on ephemeral ports: a "transactions" server (AccountService, TransferService,
 * AuditService) and a "compliance" server (ComplianceService), served by small in-test implementations that
 * behave like the real ones at the contract level (idempotency, typed AppErrors, four-eyes; support/fake-peers.ts). Requests go through
 * Fastify's inject, so routing, body parsing, pipes, header handling and the problem filter run for real, and
 * every gRPC status crosses a real socket before it becomes problem+json. Requests carry real dev-issuer tokens and
 * the in-test services verify the forwarded credential as the real ones do (the OpenAPI route: openapi.int-spec.ts).
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { complianceV1 } from '@tessera/contracts';
import { PROBLEM_CONTENT_TYPE } from '@tessera/errors';
import { createTestAuth, startGateway, type TestAuth, testConfig } from './support/edge';
import {
  alerts,
  calls,
  COMPLIANCE_DOWN_AMOUNT,
  type FakePeers,
  seedAccount,
  SLOW_TRANSFER_ID,
  startFakePeers,
  upstream,
} from './support/fake-peers';

jest.setTimeout(30_000);

const BODY_LIMIT = 4096;
const DEADLINE_MS = 800;

// ---------------------------------------------------------------- harness
let peers: FakePeers;
let app: NestFastifyApplication;
let t: TestAuth;
/** Staff with every scope the routes need; tests that care about the actor name it. */
const tokens = new Map<string, string>();
async function bearerOf(principal: string): Promise<string> {
  let token = tokens.get(principal);
  if (!token) {
    token = await t.token(principal, ['operator', 'compliance-officer', 'auditor']);
    tokens.set(principal, token);
  }
  return `Bearer ${token}`;
}

interface Res {
  status: number;
  contentType: string;
  body: Record<string, unknown>;
}
async function call(
  method: 'GET' | 'POST',
  url: string,
  options: { body?: object | string; key?: string; principal?: string; headers?: Record<string, string> } = {},
): Promise<Res> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers['idempotency-key'] = options.key;
  headers['authorization'] = await bearerOf(options.principal ?? 'ops-default');
  const res = await app.inject({ method, url, headers, ...(options.body === undefined ? {} : { payload: options.body }) });
  return { status: res.statusCode, contentType: String(res.headers['content-type'] ?? ''), body: res.json<Record<string, unknown>>() };
}
const key = () => `key-${randomUUID()}`;
const fields = (res: Res) => ((res.body['errors'] as { field: string }[] | undefined) ?? []).map((e) => e.field).sort();
function expectProblem(res: Res, status: number, code: string): void {
  expect({ status: res.status, code: res.body['code'] }).toEqual({ status, code });
  expect(res.contentType).toContain(PROBLEM_CONTENT_TYPE);
  expect(res.body).toMatchObject({
    status,
    type: `https://tessera.dev/problems/${code}`,
    title: expect.any(String),
    detail: expect.any(String),
  });
}

beforeAll(async () => {
  t = await createTestAuth();
  peers = await startFakePeers({ auth: t.auth, deadlineMs: DEADLINE_MS });
  const config = testConfig({
    TRANSACTIONS_ADDR: `127.0.0.1:${peers.transactionsPort}`,
    COMPLIANCE_ADDR: `127.0.0.1:${peers.compliancePort}`,
    GATEWAY_GRPC_DEADLINE_MS: String(DEADLINE_MS),
    GATEWAY_HEALTH_TIMEOUT_MS: '1000',
    GATEWAY_BODY_LIMIT_BYTES: String(BODY_LIMIT),
  });
  app = await startGateway(config, t.auth);
});

afterAll(async () => {
  await app?.close();
  await peers?.shutdown();
  t?.cleanup();
});

// ---------------------------------------------------------------- tests
describe('accounts', () => {
  it('lists accounts page by page with an opaque cursor', async () => {
    for (let i = 0; i < 3; i += 1) seedAccount('CHF');
    const first = await call('GET', '/v1/accounts?currency=CHF&pageSize=2', { principal: 'alice' });
    expect(first.status).toBe(200);
    expect((first.body['items'] as unknown[]).length).toBe(2);
    expect(first.body['nextPageToken']).toEqual(expect.any(String));
    expect(calls.at(-1)).toMatchObject({
      method: 'ListAccounts',
      principal: 'alice',
      request: { currency: 'CHF', page: { pageSize: 2, pageToken: '' } },
    });
    const second = await call('GET', `/v1/accounts?currency=CHF&pageSize=2&pageToken=${String(first.body['nextPageToken'])}`);
    expect((second.body['items'] as unknown[]).length).toBe(1);
    expect(second.body['nextPageToken']).toBeNull();
  });

  it('rejects bad list queries with HTTP.INVALID_QUERY naming each parameter', async () => {
    const res = await call('GET', '/v1/accounts?pageSize=0&currency=eur&colour=red');
    expectProblem(res, 400, 'HTTP.INVALID_QUERY');
    expect(fields(res)).toEqual(['(body)', 'currency', 'pageSize']);
  });

  it('reads a balance as exact decimal strings', async () => {
    const id = seedAccount('EUR', 9_223_372_036_854_775_000n);
    const res = await call('GET', `/v1/accounts/${id}/balance`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      accountId: id,
      ledger: { amountMinor: '9223372036854775000', currency: 'EUR' },
      available: { amountMinor: '9223372036854775000' },
      held: { amountMinor: '0' },
    });
  });

  it('answers a balance for a malformed or unknown id with 400 / 404', async () => {
    expectProblem(await call('GET', '/v1/accounts/acc-1/balance'), 400, 'HTTP.INVALID_ID');
    expectProblem(await call('GET', `/v1/accounts/${randomUUID()}/balance`), 404, 'PAYMENTS.ACCOUNT_NOT_FOUND');
  });

  it('freezes an account, forwarding the principal; a stale expectedVersion is a 409', async () => {
    const id = seedAccount();
    const stale = await call('POST', `/v1/accounts/${id}/freeze`, { key: key(), body: { expectedVersion: '7' } });
    expectProblem(stale, 409, 'PAYMENTS.VERSION_CONFLICT');
    const res = await call('POST', `/v1/accounts/${id}/freeze`, {
      key: key(),
      principal: 'ops:bob',
      body: { reason: 'chargeback fraud', expectedVersion: '1' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, status: 'FROZEN', version: '2' });
    expect(calls.at(-1)).toMatchObject({
      method: 'FreezeAccount',
      principal: 'ops:bob',
      request: { accountId: id, reason: 'chargeback fraud', expectedVersion: 1n },
    });
  });

  it('requires an Idempotency-Key to freeze and close, and accepts an empty body', async () => {
    const id = seedAccount();
    expectProblem(await call('POST', `/v1/accounts/${id}/freeze`, { body: {} }), 400, 'HTTP.IDEMPOTENCY_KEY_REQUIRED');
    const closed = await call('POST', `/v1/accounts/${id}/close`, { key: key() });
    expect(closed.status).toBe(200);
    expect(closed.body['status']).toBe('CLOSED');
  });

  it('refuses to close an account with money on it (422)', async () => {
    const id = seedAccount('EUR', 100n);
    expectProblem(
      await call('POST', `/v1/accounts/${id}/close`, { key: key(), body: { reason: 'customer left' } }),
      422,
      'PAYMENTS.ACCOUNT_NOT_EMPTY',
    );
  });
});

describe('transfers', () => {
  let funded: string;
  let other: string;
  const body = () => ({
    sourceAccountId: funded,
    destinationAccountId: other,
    amount: { amountMinor: '1050', currency: 'EUR' },
    description: 'rent',
    counterparty: { name: 'ACME GmbH', country: 'DE' },
  });

  beforeAll(() => {
    funded = seedAccount('EUR', 100_000n);
    other = seedAccount('EUR');
  });

  it('creates a transfer: 201, postings as exact strings, key, counterparty and principal forwarded', async () => {
    const idemKey = key();
    const res = await call('POST', '/v1/transfers', { key: idemKey, principal: 'alice', body: body() });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      sourceAccountId: funded,
      destinationAccountId: other,
      status: 'POSTED',
      kind: 'DIRECT',
      amount: { amountMinor: '1050', currency: 'EUR' },
      postings: [
        { accountId: funded, amount: { amountMinor: '-1050' } },
        { accountId: other, amount: { amountMinor: '1050' } },
      ],
      reversesTransferId: null,
    });
    expect(calls.at(-1)).toMatchObject({
      method: 'CreateTransfer',
      principal: 'alice',
      request: {
        idempotencyKey: idemKey,
        transfer: { amount: { amountMinor: 1050n, currency: 'EUR' }, counterparty: { name: 'ACME GmbH', country: 'DE' } },
      },
    });
  });

  it('replays the first result for a retried Idempotency-Key and posts nothing twice', async () => {
    const idemKey = key();
    const first = await call('POST', '/v1/transfers', { key: idemKey, body: body() });
    const balanceAfterFirst = (await call('GET', `/v1/accounts/${funded}/balance`)).body['ledger'];
    const retry = await call('POST', '/v1/transfers', { key: idemKey, body: body() });
    expect(retry.status).toBe(201);
    expect(retry.body['id']).toBe(first.body['id']);
    expect((await call('GET', `/v1/accounts/${funded}/balance`)).body['ledger']).toEqual(balanceAfterFirst);
  });

  it('answers a reused Idempotency-Key with a different body with 422 PAYMENTS.IDEMPOTENCY_KEY_REUSED', async () => {
    const idemKey = key();
    await call('POST', '/v1/transfers', { key: idemKey, body: body() });
    const res = await call('POST', '/v1/transfers', {
      key: idemKey,
      body: { ...body(), amount: { amountMinor: '2000', currency: 'EUR' } },
    });
    expectProblem(res, 422, 'PAYMENTS.IDEMPOTENCY_KEY_REUSED');
  });

  it('requires an Idempotency-Key', async () => {
    const res = await call('POST', '/v1/transfers', { body: body() });
    expectProblem(res, 400, 'HTTP.IDEMPOTENCY_KEY_REQUIRED');
    expect(fields(res)).toEqual(['Idempotency-Key']);
  });

  it.each([
    ['a zero amount', (b: Record<string, unknown>) => ({ ...b, amount: { amountMinor: '0', currency: 'EUR' } }), ['amount.amountMinor']],
    [
      'a negative amount',
      (b: Record<string, unknown>) => ({ ...b, amount: { amountMinor: '-1050', currency: 'EUR' } }),
      ['amount.amountMinor'],
    ],
    [
      'an overflowing amount',
      (b: Record<string, unknown>) => ({ ...b, amount: { amountMinor: '9223372036854775808', currency: 'EUR' } }),
      ['amount.amountMinor'],
    ],
    ['a float amount', (b: Record<string, unknown>) => ({ ...b, amount: { amountMinor: 10.5, currency: 'EUR' } }), ['amount.amountMinor']],
    ['an unknown currency', (b: Record<string, unknown>) => ({ ...b, amount: { amountMinor: '1', currency: 'ZZZ' } }), ['amount.currency']],
    [
      'the same source and destination',
      (b: Record<string, unknown>) => ({ ...b, destinationAccountId: b['sourceAccountId'] }),
      ['destinationAccountId'],
    ],
    [
      'malformed ids',
      (b: Record<string, unknown>) => ({ ...b, sourceAccountId: 'acc-1', destinationAccountId: 42 }),
      ['destinationAccountId', 'sourceAccountId'],
    ],
    ['an unknown field', (b: Record<string, unknown>) => ({ ...b, priority: 'high' }), ['(body)']],
  ])('rejects %s at the edge with 400 HTTP.INVALID_REQUEST, never calling upstream', async (_label, mutate, expected) => {
    const before = calls.length;
    const res = await call('POST', '/v1/transfers', { key: key(), body: mutate(body()) });
    expectProblem(res, 400, 'HTTP.INVALID_REQUEST');
    expect(fields(res)).toEqual(expected);
    expect(calls.length).toBe(before);
  });

  it('answers an oversize body with 413 and malformed JSON with 400', async () => {
    expectProblem(
      await call('POST', '/v1/transfers', { key: key(), body: { ...body(), description: 'x'.repeat(BODY_LIMIT) } }),
      413,
      'HTTP.PAYLOAD_TOO_LARGE',
    );
    expectProblem(
      await call('POST', '/v1/transfers', { key: key(), body: '{"amount":', headers: { 'content-type': 'application/json' } }),
      400,
      'HTTP.BAD_REQUEST',
    );
  });

  it("ignores an X-Tessera-Principal header: the actor upstream is the token's subject", async () => {
    const res = await call('POST', '/v1/transfers', {
      key: key(),
      principal: 'ops-erin',
      body: body(),
      headers: { 'x-tessera-principal': 'mallory' },
    });
    expect(res.status).toBe(201);
    expect(calls.at(-1)).toMatchObject({ method: 'CreateTransfer', principal: 'ops-erin' });
  });

  it("maps the service's refusals: insufficient funds and frozen account 422, unknown account 404, compliance down 503", async () => {
    const poor = seedAccount('EUR', 10n);
    expectProblem(
      await call('POST', '/v1/transfers', { key: key(), body: { ...body(), sourceAccountId: poor } }),
      422,
      'PAYMENTS.INSUFFICIENT_FUNDS',
    );
    const frozen = seedAccount('EUR', 10_000n);
    await call('POST', `/v1/accounts/${frozen}/freeze`, { key: key() });
    expectProblem(
      await call('POST', '/v1/transfers', { key: key(), body: { ...body(), sourceAccountId: frozen } }),
      422,
      'PAYMENTS.ACCOUNT_FROZEN',
    );
    expectProblem(
      await call('POST', '/v1/transfers', { key: key(), body: { ...body(), destinationAccountId: randomUUID() } }),
      404,
      'PAYMENTS.ACCOUNT_NOT_FOUND',
    );
    const down = await call('POST', '/v1/transfers', {
      key: key(),
      body: { ...body(), amount: { amountMinor: String(COMPLIANCE_DOWN_AMOUNT), currency: 'EUR' } },
    });
    expectProblem(down, 503, 'PAYMENTS.COMPLIANCE_UNAVAILABLE');
  });

  it('returns a transfer held for review as 201 PENDING with nothing posted', async () => {
    const res = await call('POST', '/v1/transfers', {
      key: key(),
      body: { ...body(), counterparty: { name: 'Review Me', country: 'IR' } },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'PENDING', postings: [], postedAt: null });
  });

  it('creates a batch atomically and names an invalid item by index', async () => {
    const ok = await call('POST', '/v1/transfers/batch', { key: key(), body: { transfers: [body(), body()] } });
    expect(ok.status).toBe(201);
    expect(ok.body['batchId']).toEqual(expect.any(String));
    expect((ok.body['transfers'] as { batchId: string }[]).map((t) => t.batchId)).toEqual([ok.body['batchId'], ok.body['batchId']]);
    const bad = await call('POST', '/v1/transfers/batch', {
      key: key(),
      body: { transfers: [body(), { ...body(), amount: { amountMinor: '-1', currency: 'EUR' } }] },
    });
    expectProblem(bad, 400, 'HTTP.INVALID_REQUEST');
    expect(fields(bad)).toEqual(['transfers.1.amount.amountMinor']);
    expectProblem(await call('POST', '/v1/transfers/batch', { key: key(), body: { transfers: [] } }), 400, 'HTTP.INVALID_REQUEST');
  });

  it('gets a transfer; 400 for a malformed id, 404 for an unknown one, 504 when upstream misses the deadline', async () => {
    const created = await call('POST', '/v1/transfers', { key: key(), body: body() });
    const res = await call('GET', `/v1/transfers/${String(created.body['id'])}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(created.body);
    expectProblem(await call('GET', '/v1/transfers/12345'), 400, 'HTTP.INVALID_ID');
    expectProblem(await call('GET', `/v1/transfers/${randomUUID()}`), 404, 'PAYMENTS.TRANSFER_NOT_FOUND');
    const slow = await call('GET', `/v1/transfers/${SLOW_TRANSFER_ID}`);
    expect(slow.status).toBe(504);
    expect(slow.contentType).toContain(PROBLEM_CONTENT_TYPE);
  });

  it("lists an account's transfers with a cursor, validating the filters", async () => {
    const a = seedAccount('EUR', 1_000n);
    const b = seedAccount('EUR');
    for (let i = 0; i < 3; i += 1)
      await call('POST', '/v1/transfers', {
        key: key(),
        body: { ...body(), sourceAccountId: a, destinationAccountId: b, amount: { amountMinor: '10', currency: 'EUR' } },
      });
    const first = await call('GET', `/v1/transfers?accountId=${a}&pageSize=2`);
    expect(first.status).toBe(200);
    expect((first.body['items'] as unknown[]).length).toBe(2);
    const second = await call('GET', `/v1/transfers?accountId=${a}&pageSize=2&pageToken=${String(first.body['nextPageToken'])}`);
    expect((second.body['items'] as unknown[]).length).toBe(1);
    expect(second.body['nextPageToken']).toBeNull();
    const bad = await call('GET', '/v1/transfers?accountId=nope&pageSize=1000');
    expectProblem(bad, 400, 'HTTP.INVALID_QUERY');
    expect(fields(bad)).toEqual(['accountId', 'pageSize']);
  });

  it('reverses a posted transfer once; reversing again is a 422', async () => {
    const created = await call('POST', '/v1/transfers', { key: key(), body: body() });
    const id = String(created.body['id']);
    const res = await call('POST', `/v1/transfers/${id}/reverse`, {
      key: key(),
      principal: 'ops:carol',
      body: { reason: 'duplicate payment' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      original: { id, status: 'REVERSED' },
      reversal: { kind: 'REVERSAL', reversesTransferId: id, sourceAccountId: other, destinationAccountId: funded },
    });
    expect(calls.at(-1)).toMatchObject({
      method: 'ReverseTransfer',
      principal: 'ops:carol',
      request: { transferId: id, reason: 'duplicate payment' },
    });
    expectProblem(await call('POST', `/v1/transfers/${id}/reverse`, { key: key(), body: {} }), 422, 'PAYMENTS.TRANSFER_NOT_REVERSIBLE');
  });
});

describe('holds', () => {
  let source: string;
  let merchant: string;
  const holdBody = (amountMinor = '500') => ({
    accountId: source,
    destinationAccountId: merchant,
    amount: { amountMinor, currency: 'USD' },
    ttlSeconds: 3600,
    reference: 'card-auth-1',
  });

  beforeAll(() => {
    source = seedAccount('USD', 1_000n);
    merchant = seedAccount('USD');
  });

  it('authorises, partially captures and reports the posted transfer', async () => {
    const hold = await call('POST', '/v1/holds', { key: key(), body: holdBody() });
    expect(hold.status).toBe(201);
    expect(hold.body).toMatchObject({ status: 'AUTHORIZED', amount: { amountMinor: '500', currency: 'USD' }, captureTransferId: null });
    expect(calls.at(-1)).toMatchObject({ method: 'AuthorizeHold', request: { ttl: { seconds: 3600n } } });
    expect((await call('GET', `/v1/accounts/${source}/balance`)).body).toMatchObject({
      available: { amountMinor: '500' },
      held: { amountMinor: '500' },
    });
    const captured = await call('POST', `/v1/holds/${String(hold.body['id'])}/capture`, {
      key: key(),
      body: { amount: { amountMinor: '300', currency: 'USD' } },
    });
    expect(captured.status).toBe(200);
    expect(captured.body).toMatchObject({
      hold: { status: 'CAPTURED', capturedAmount: { amountMinor: '300' } },
      transfer: { kind: 'HOLD_CAPTURE', holdId: hold.body['id'], status: 'POSTED' },
    });
    expectProblem(
      await call('POST', `/v1/holds/${String(hold.body['id'])}/void`, { key: key(), body: {} }),
      422,
      'PAYMENTS.HOLD_NOT_AUTHORIZED',
    );
  });

  it('voids an authorised hold', async () => {
    const hold = await call('POST', '/v1/holds', { key: key(), body: holdBody('100') });
    const voided = await call('POST', `/v1/holds/${String(hold.body['id'])}/void`, { key: key(), body: { reason: 'order cancelled' } });
    expect(voided.status).toBe(200);
    expect(voided.body['status']).toBe('VOIDED');
  });

  it('rejects bad hold input at the edge and maps upstream refusals', async () => {
    const bad = await call('POST', '/v1/holds', { key: key(), body: { ...holdBody('0'), destinationAccountId: source, ttlSeconds: 0 } });
    expectProblem(bad, 400, 'HTTP.INVALID_REQUEST');
    expect(fields(bad)).toEqual(['amount.amountMinor', 'destinationAccountId', 'ttlSeconds']);
    expectProblem(await call('POST', '/v1/holds', { key: key(), body: holdBody('999999') }), 422, 'PAYMENTS.INSUFFICIENT_FUNDS');
    expectProblem(await call('POST', '/v1/holds/not-a-hold/capture', { key: key(), body: {} }), 400, 'HTTP.INVALID_ID');
    expectProblem(await call('POST', `/v1/holds/${randomUUID()}/capture`, { key: key(), body: {} }), 404, 'PAYMENTS.HOLD_NOT_FOUND');
    expectProblem(await call('POST', `/v1/holds/${randomUUID()}/void`, { body: {} }), 400, 'HTTP.IDEMPOTENCY_KEY_REQUIRED');
  });
});

describe('compliance alerts', () => {
  const alertId = randomUUID();
  beforeAll(() => {
    alerts.set(
      alertId,
      complianceV1.Alert.fromPartial({
        id: alertId,
        ruleId: 'screen.review',
        ruleVersion: '2026-01-01',
        severity: complianceV1.AlertSeverity.ALERT_SEVERITY_HIGH,
        status: complianceV1.AlertStatus.ALERT_STATUS_OPEN,
        accountId: randomUUID(),
        heldTransferId: randomUUID(),
        reasons: [
          { code: 'COMPLIANCE.SANCTIONS_FUZZY_MATCH', ruleId: 'sanctions.fuzzy', description: 'Counterparty resembles a listed name' },
        ],
        createdAt: new Date(),
      }),
    );
  });

  it('lists the queue filtered by status', async () => {
    const res = await call('GET', '/v1/compliance/alerts?status=OPEN&pageSize=10', { principal: 'analyst-1' });
    expect(res.status).toBe(200);
    expect(res.body['items']).toEqual([
      expect.objectContaining({
        id: alertId,
        status: 'OPEN',
        severity: 'HIGH',
        resolution: null,
        reasons: [expect.objectContaining({ code: 'COMPLIANCE.SANCTIONS_FUZZY_MATCH' })],
      }),
    ]);
    expect(calls.at(-1)).toMatchObject({
      method: 'ListAlerts',
      principal: 'analyst-1',
      request: { status: complianceV1.AlertStatus.ALERT_STATUS_OPEN },
    });
    expectProblem(await call('GET', '/v1/compliance/alerts?status=CLOSED'), 400, 'HTTP.INVALID_QUERY');
  });

  it('assigns an alert', async () => {
    const res = await call('POST', `/v1/compliance/alerts/${alertId}/assign`, {
      key: key(),
      principal: 'lead',
      body: { assignee: 'analyst-1' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ASSIGNED', assignee: 'analyst-1' });
    expectProblem(await call('POST', `/v1/compliance/alerts/${alertId}/assign`, { key: key(), body: {} }), 400, 'HTTP.INVALID_REQUEST');
    expectProblem(
      await call('POST', `/v1/compliance/alerts/${randomUUID()}/assign`, { key: key(), body: { assignee: 'x' } }),
      404,
      'COMPLIANCE.ALERT_NOT_FOUND',
    );
  });

  it('releases only with two distinct reviewers (four-eyes on the forwarded principal)', async () => {
    const release = { resolution: 'RELEASE', note: 'customer verified by phone' };
    const first = await call('POST', `/v1/compliance/alerts/${alertId}/resolve`, { key: key(), principal: 'analyst-1', body: release });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ status: 'AWAITING_SECOND_APPROVAL', releaseApprovals: ['analyst-1'] });
    expectProblem(
      await call('POST', `/v1/compliance/alerts/${alertId}/resolve`, { key: key(), principal: 'analyst-1', body: release }),
      422,
      'COMPLIANCE.FOUR_EYES_REQUIRED',
    );
    const second = await call('POST', `/v1/compliance/alerts/${alertId}/resolve`, { key: key(), principal: 'analyst-2', body: release });
    expect(second.body).toMatchObject({ status: 'RESOLVED', resolution: 'RELEASE', releaseApprovals: ['analyst-1', 'analyst-2'] });
  });

  it('requires a resolution and a note', async () => {
    const res = await call('POST', `/v1/compliance/alerts/${alertId}/resolve`, { key: key(), body: { resolution: 'APPROVE' } });
    expectProblem(res, 400, 'HTTP.INVALID_REQUEST');
    expect(fields(res)).toEqual(['note', 'resolution']);
  });
});

describe('audit', () => {
  it('verifies the chain and reports the first tampered record', async () => {
    const ok = await call('GET', '/v1/audit/verify', { principal: 'auditor' });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ valid: true, recordsChecked: '2', firstInvalidSeq: null, failureReason: null, headHash: 'b'.repeat(64) });
    upstream.auditTampered = true;
    const broken = await call('GET', '/v1/audit/verify');
    expect(broken.status).toBe(200);
    expect(broken.body).toMatchObject({ valid: false, firstInvalidSeq: '2', failureReason: 'hash mismatch', headHash: null });
  });

  it('lists records for one entity with parsed payloads', async () => {
    const res = await call('GET', '/v1/audit/records?entityType=transfer&entityId=t-42');
    expect(res.status).toBe(200);
    expect(res.body['items']).toEqual([
      expect.objectContaining({ seq: '1', actor: 'alice', entityId: 't-42', payload: { amountMinor: '1050', currency: 'EUR' } }),
      expect.objectContaining({ seq: '2', prevHash: 'a'.repeat(64) }),
    ]);
    expectProblem(await call('GET', '/v1/audit/records?entityType=Transfer%20X'), 400, 'HTTP.INVALID_QUERY');
  });
});

describe('when compliance is down', () => {
  beforeAll(async () => {
    await peers.stopCompliance();
  });

  it('answers alert routes with 503 and reports /health down naming compliance', async () => {
    const res = await call('GET', '/v1/compliance/alerts');
    expect(res.status).toBe(503);
    expect(res.contentType).toContain(PROBLEM_CONTENT_TYPE);
    const health = await call('GET', '/health');
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: 'down', checks: { compliance: { status: 'down' }, transactions: { status: 'up' } } });
  });
});
