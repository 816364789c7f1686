/**
 * Chaos scenario: PostgreSQL stopped and restarted under transfer load (issue #14, scenario 2).
 * gateway, transactions and compliance run as real processes (mTLS, real tokens) on the chaos scenarios' own
 * PostgreSQL (tests/chaos/support/chaos-postgres.ts) and the shared Kafka. Eight clients send transfers for 30 s,
 * each retrying its Idempotency-Key as the API tells it to; 6 s in, PostgreSQL stops (fast shutdown: connections
 * terminated) and stays down 13 s. Then: no HTTP 500 (an outage is 503 with Retry-After), the platform reported itself
 * unready and recovered by itself, and every invariant of tests/chaos/support/invariants.ts holds.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { startPaymentsPlatform, type PaymentsPlatform } from '../e2e/support/payments-platform';
import { ChaosPostgres } from './support/chaos-postgres';
import { paymentInvariants } from './support/invariants';
import { writeScenarioResult } from './support/report';
import { runTransferLoad } from './support/transfer-load';

jest.setTimeout(240_000);

const LOAD_MS = 30_000;
const STOP_AT_MS = 6_000;
const OUTAGE_MS = 13_000;
const CLIENTS = 8;

let pg: ChaosPostgres;
let platform: PaymentsPlatform;

beforeAll(async () => {
  pg = new ChaosPostgres();
  await pg.up();
  // The gateway's per-client write limit (120/min) would make the load mostly 429s: raised, the scenario is about the database.
  platform = await startPaymentsPlatform(18280, { pgAdminUrl: pg.adminUrl, env: { GATEWAY_RATE_LIMITS: 'write=100000/60s,read=100000/60s' } });
}, 180_000);

afterAll(async () => {
  if (pg && !pg.running()) await pg.up();
  await platform?.stop();
  await pg?.stop();
}, 120_000);

it('keeps every transfer exactly once and answers 503 + Retry-After while PostgreSQL restarts', async () => {
  const { gateway, creds, run } = platform;
  const operator = await creds.bearer({ sub: `chaos-operator-${run}`, roles: ['operator'] });
  const auditor = await creds.bearer({ sub: `chaos-auditor-${run}`, roles: ['auditor'] });
  const open = async (owner: string, overdraft: string) => {
    const res = await fetch(`${gateway}/v1/accounts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': `chaos-open-${owner}-${run}`, ...operator },
      body: JSON.stringify({ ownerId: `${owner}-${run}`, type: 'ASSET', currency: 'EUR', overdraftLimitMinor: overdraft, holder: { fullName: `Holder ${owner}`, address: '1 Test Street, Berlin', nationalId: `ID-${owner}-${run}`, country: 'DE' } }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  };
  const source = await open('chaos-source', '1000000000000');
  const destination = await open('chaos-destination', '0');

  // The platform's own view of its health, every 500 ms: it must say unready during the outage and recover by itself.
  const health: { at: number; status: number | 'network' }[] = [];
  const started = Date.now();
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const status = await fetch(`${gateway}/health`, { signal: AbortSignal.timeout(2000) }).then((r) => r.status, () => 'network' as const);
      health.push({ at: Date.now() - started, status });
      await sleep(500);
    }
  })();
  // The test's own connections die with the server too: expected, and replaced after the restart.
  for (const c of [platform.tx, platform.co]) c.on('error', () => undefined);
  const fault = (async () => {
    await sleep(STOP_AT_MS);
    await pg.stop();
    const stoppedAt = Date.now() - started;
    await sleep(OUTAGE_MS);
    await pg.up();
    return { stoppedAt, restartedAt: Date.now() - started };
  })();

  const load = await runTransferLoad({ gateway, headers: operator, source, destination, clients: CLIENTS, durationMs: LOAD_MS, settleMs: 45_000 });
  const { stoppedAt, restartedAt } = await fault;
  await sleep(2000);
  polling = false;
  await poller;

  const tx = new Client({ connectionString: platform.urls.transactions });
  await tx.connect();
  const invariants = await paymentInvariants({
    tx,
    operations: load.operations,
    source,
    destination,
    verifyAudit: async () => (await fetch(`${gateway}/v1/audit/verify`, { headers: auditor })).json() as Promise<{ valid: boolean; recordsChecked: string; failureReason: string | null }>,
  });
  await tx.end();
  const unready = health.filter((h) => h.at > stoppedAt && h.at < restartedAt && h.status === 503).length;
  const recoveredAt = health.find((h) => h.at > restartedAt && h.status === 200)?.at;
  const ops = load.operations;
  const acked = ops.filter((o) => o.outcome === 'acked');
  writeScenarioResult({
    scenario: 'postgres-restart',
    at: new Date().toISOString(),
    load: `${CLIENTS} clients, ${LOAD_MS / 1000} s of transfers, retries with the same key`,
    faults: [`PostgreSQL fast shutdown at ${(stoppedAt / 1000).toFixed(1)} s`, `started again at ${(restartedAt / 1000).toFixed(1)} s`],
    operations: {
      total: ops.length,
      acknowledged: acked.length,
      refused: ops.filter((o) => o.outcome === 'refused').length,
      lost: invariants.find((i) => i.name.startsWith('every acknowledged'))?.ok ? 0 : Number.NaN,
      duplicated: invariants.find((i) => i.name.startsWith('no transfer duplicated'))?.ok ? 0 : Number.NaN,
      notCompleted: ops.filter((o) => o.outcome === 'unsettled').length,
    },
    answers: load.statuses,
    observations: [
      `gateway /health answered 503 ${unready} time(s) during the outage and 200 again ${recoveredAt === undefined ? 'never' : `${((recoveredAt - restartedAt) / 1000).toFixed(1)} s after the restart`}`,
      `${ops.filter((o) => o.retried.length > 0).length} operation(s) needed retries; most attempts for one: ${Math.max(0, ...ops.map((o) => o.attempts))}`,
      `503 answers without Retry-After: ${load.unavailableWithoutRetryAfter}`,
    ],
    invariants,
  });

  expect(invariants.filter((i) => !i.ok)).toEqual([]);
  expect(load.statuses['500'] ?? 0).toBe(0);
  expect(load.unavailableWithoutRetryAfter).toBe(0);
  expect(load.statuses['503'] ?? 0).toBeGreaterThan(0); // the outage was felt: the scenario tested something
  expect(unready).toBeGreaterThan(0);
  expect(recoveredAt).toBeDefined();
  expect(acked.length).toBeGreaterThan(CLIENTS * 5);
});
