import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkHealth, ensureDevPki, grpcTransportFromEnv } from '@tessera/grpc';
import type { Client } from 'pg';
import { startPaymentsPlatform, type PaymentsPlatform } from './support/payments-platform';
import { formatTree } from './support/otlp-receiver';
import { waitFor } from './support/platform';

/**
 * The foundation slice with every service as a real process: HTTP -> gateway -> gRPC -> transactions ->
 * PostgreSQL, and gateway -> Kafka -> transactions consumer -> PostgreSQL, each in one distributed trace.
 * Uses its own ports, databases and consumer groups so it can run beside a platform started by `npm run up`.
 * Every call carries a real token (operator) and every gRPC hop is mTLS; the edge and the transport refuse
 * callers without them.
 */
jest.setTimeout(60_000);

let platform: PaymentsPlatform;
let GATEWAY: string;
let db: Client;
let run: string;
/** Operator token headers: accounts:write, accounts:read, ops:read (pings). */
let OPERATOR: Record<string, string>;

beforeAll(async () => {
  platform = await startPaymentsPlatform(18080);
  ({ gateway: GATEWAY, tx: db, run } = platform);
  OPERATOR = await platform.creds.bearer({ sub: `operator-${run}`, roles: ['operator'] });
}, 180_000);

afterAll(() => platform?.stop(), 60_000);

/** A W3C traceparent with a fresh trace id, so a test can follow exactly its own request. */
function newTrace(): { traceId: string; traceparent: string } {
  const traceId = randomBytes(16).toString('hex');
  return { traceId, traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` };
}

describe('foundation slice', () => {
  it('reports every dependency healthy on /health', async () => {
    const res = await fetch(`${GATEWAY}/health`);
    const body = (await res.json()) as { status: string; checks: Record<string, { status: string }> };
    expect(res.status).toBe(200);
    expect(body.status).toBe('up');
    expect(Object.keys(body.checks).sort()).toEqual(['compliance', 'kafka', 'postgres', 'transactions']);
  });

  it('opens an account through gateway -> gRPC -> transactions -> Postgres in one trace', async () => {
    const { traceId, traceparent } = newTrace();
    const res = await fetch(`${GATEWAY}/v1/accounts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': `e2e-${randomUUID()}`, traceparent, ...OPERATOR },
      body: JSON.stringify({
        ownerId: 'cust-e2e',
        name: 'Operating',
        type: 'ASSET',
        currency: 'EUR',
        overdraftLimitMinor: '9007199254740993',
      }),
    });
    expect(res.status).toBe(201);
    const account = (await res.json()) as { id: string; overdraftLimitMinor: string; status: string };
    // Above 2^53: proves minor units stay integers end to end (JSON string -> bigint -> int64 -> BIGINT).
    expect(account.overdraftLimitMinor).toBe('9007199254740993');

    const row = await db.query('SELECT owner_id, overdraft_limit_minor::text AS limit FROM accounts WHERE id = $1', [account.id]);
    expect(row.rows).toEqual([{ owner_id: 'cust-e2e', limit: '9007199254740993' }]);

    const fetched = await fetch(`${GATEWAY}/v1/accounts/${account.id}`, { headers: OPERATOR });
    expect(await fetched.json()).toMatchObject({ id: account.id, status: 'ACTIVE' });

    await waitFor(
      'spans of the account trace',
      async () => {
        const spans = platform.otlp.trace(traceId);
        // Spans arrive in batches per process (every 200 ms), and a parent ends (so is exported) after its children:
        // wait for both ends AND for every span's parent, or a late batch looks like a second root.
        const ids = new Set(spans.map((s) => s.spanId));
        const orphans = spans.filter((s) => !s.parentSpanId || !ids.has(s.parentSpanId)).length;
        return (
          orphans === 1 &&
          spans.some((s) => s.service === 'transactions' && s.attributes['db.system.name'] === 'postgresql') &&
          spans.some((s) => s.service === 'gateway' && s.kind === 1)
        );
      },
      10_000,
    ).catch(() => undefined); // on timeout, the assertions below print the tree
    const spans = platform.otlp.trace(traceId);
    const byService = (service: string, kind: number) => spans.filter((s) => s.service === service && s.kind === kind);
    expect(byService('gateway', 1 /* SERVER */).length).toBeGreaterThan(0);
    expect(byService('gateway', 2 /* CLIENT */).some((s) => s.name.includes('AccountService/OpenAccount'))).toBe(true);
    expect(byService('transactions', 1).some((s) => s.name.includes('AccountService/OpenAccount'))).toBe(true);
    // Every span of the trace hangs off another span of the trace, except the root (parent = our traceparent).
    const ids = new Set(spans.map((s) => s.spanId));
    const roots = spans.filter((s) => !s.parentSpanId || !ids.has(s.parentSpanId));
    expect({ roots: roots.length, tree: formatTree(spans) }).toMatchObject({ roots: 1 });
  });

  it('answers bad input with problem+json and writes nothing', async () => {
    const before = await db.query('SELECT count(*)::int AS n FROM accounts');
    const res = await fetch(`${GATEWAY}/v1/accounts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': `e2e-${randomUUID()}`, ...OPERATOR },
      body: JSON.stringify({ ownerId: 'x', type: 'ASSET', currency: 'EUR', overdraftLimitMinor: 1.5 }),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await res.json()) as { code: string; errors: { field: string }[] };
    expect(problem.code).toBe('HTTP.INVALID_REQUEST');
    expect(problem.errors.map((e) => e.field)).toContain('overdraftLimitMinor');

    const missing = await fetch(`${GATEWAY}/v1/accounts/${randomUUID()}`, { headers: OPERATOR });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { code: string }).code).toBe('PAYMENTS.ACCOUNT_NOT_FOUND');

    const after = await db.query('SELECT count(*)::int AS n FROM accounts');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('carries a ping gateway -> Kafka -> transactions consumer -> Postgres in one trace', async () => {
    const { traceId, traceparent } = newTrace();
    const res = await fetch(`${GATEWAY}/v1/pings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent, ...OPERATOR },
      body: JSON.stringify({ message: `hello ${run}` }),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };

    await waitFor(
      'the ping receipt',
      async () => (await db.query('SELECT 1 FROM ping_receipts WHERE event_id = $1', [id])).rowCount === 1,
      20_000,
    );
    const receipt = await db.query('SELECT message, trace_id FROM ping_receipts WHERE event_id = $1', [id]);
    expect(receipt.rows[0]).toEqual({ message: `hello ${run}`, trace_id: traceId });

    await waitFor(
      'producer and consumer spans',
      async () => {
        const spans = platform.otlp.trace(traceId);
        return (
          spans.some((s) => s.service === 'gateway' && s.kind === 3) && spans.some((s) => s.service === 'transactions' && s.kind === 4)
        );
      },
      10_000,
    );
  });

  it('refuses API calls without a valid token at the edge (401 + WWW-Authenticate), and without the scope (403)', async () => {
    const none = await fetch(`${GATEWAY}/v1/accounts/${randomUUID()}`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(((await none.json()) as { code: string }).code).toMatch(/^AUTH\./);

    const expired = await platform.creds.mint({ sub: `operator-${run}`, roles: ['operator'], ttlSec: -120 });
    const late = await fetch(`${GATEWAY}/v1/accounts/${randomUUID()}`, { headers: { authorization: `Bearer ${expired}` } });
    expect(late.status).toBe(401);
    expect(((await late.json()) as { code: string }).code).toBe('AUTH.TOKEN_EXPIRED');

    const auditor = await platform.creds.bearer({ sub: `auditor-${run}`, roles: ['auditor'] });
    const open = await fetch(`${GATEWAY}/v1/accounts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': `e2e-${randomUUID()}`, ...auditor },
      body: JSON.stringify({ ownerId: 'x', name: 'n', type: 'ASSET', currency: 'EUR' }),
    });
    expect(open.status).toBe(403);
    expect(((await open.json()) as { code: string }).code).toBe('AUTH.SCOPE_REQUIRED');
  });

  it('refuses gRPC clients without a certificate, or with one from another CA (mTLS on every service)', async () => {
    const addr = `127.0.0.1:${18080 + 1}`; // transactions
    expect(await checkHealth(addr, '', { timeoutMs: 2000, credentials: platform.creds.grpc })).toBe('SERVING');
    await expect(checkHealth(addr, '', { timeoutMs: 2000 })).rejects.toThrow(); // plaintext

    const otherCa = mkdtempSync(join(tmpdir(), 'tessera-e2e-other-ca-'));
    try {
      ensureDevPki({ dir: otherCa, identities: ['gateway'], caName: 'Not the Tessera CA' });
      const impostor = grpcTransportFromEnv('gateway', { TESSERA_TLS_DIR: otherCa, NODE_ENV: 'test' }).client;
      await expect(checkHealth(addr, '', { timeoutMs: 2000, credentials: impostor })).rejects.toThrow();
    } finally {
      rmSync(otherCa, { recursive: true, force: true });
    }
  });
});
