/**
 * Chaos scenario: PostgreSQL stopped and restarted under transfer load (issue #14, scenario 2).
 * gateway, transactions and compliance run as real processes (mTLS, real tokens) on the chaos scenarios' own
 * PostgreSQL (tests/chaos/support/chaos-postgres.ts) and the shared Kafka. Eight clients send transfers for 30 s,
 * each retrying its Idempotency-Key as the API tells it to; 6 s in, PostgreSQL stops (fast shutdown: connections
 * terminated) and stays down 13 s. Then: no HTTP 500 (an outage is 503 with Retry-After), the platform reported itself
 * unready and recovered by itself, and every invariant of tests/chaos/support/invariants.ts holds.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { startPaymentsPlatform, type PaymentsPlatform } from '../e2e/support/payments-platform';
import { ChaosPostgres } from './support/chaos-postgres';
import { CHAOS_PAYMENTS_ENV, runPaymentsScenario } from './support/scenario';

jest.setTimeout(240_000);

const STOP_AT_MS = 6_000;
const OUTAGE_MS = 13_000;

let pg: ChaosPostgres;
let platform: PaymentsPlatform;

beforeAll(async () => {
  pg = new ChaosPostgres();
  await pg.up();
  platform = await startPaymentsPlatform(18280, {
    pgAdminUrl: pg.adminUrl,
    env: CHAOS_PAYMENTS_ENV,
  });
}, 180_000);

afterAll(async () => {
  if (pg && !pg.running()) await pg.up();
  await platform?.stop();
  await pg?.stop();
}, 120_000);

it('keeps every transfer exactly once and answers 503 + Retry-After while PostgreSQL restarts', async () => {
  let window = { stoppedAt: 0, restartedAt: 0 };
  const { load, invariants, health } = await runPaymentsScenario({
    name: 'postgres-restart',
    platform,
    clients: 8,
    loadMs: 30_000,
    fault: async (elapsed) => {
      await sleep(STOP_AT_MS);
      await pg.stop();
      const stoppedAt = elapsed();
      await sleep(OUTAGE_MS);
      await pg.up();
      window = { stoppedAt, restartedAt: elapsed() };
      return [
        `PostgreSQL fast shutdown at ${(stoppedAt / 1000).toFixed(1)} s`,
        `started again at ${(window.restartedAt / 1000).toFixed(1)} s`,
      ];
    },
  });
  expect(invariants.filter((i) => !i.ok)).toEqual([]);
  expect(load.statuses['500'] ?? 0).toBe(0);
  expect(load.unavailableWithoutRetryAfter).toBe(0);
  expect(load.statuses['503'] ?? 0).toBeGreaterThan(0); // the outage was felt: the scenario tested something
  // The platform said so itself, and came back by itself.
  expect(health.filter((h) => h.at > window.stoppedAt && h.at < window.restartedAt && h.status === 503).length).toBeGreaterThan(0);
  expect(health.find((h) => h.at > window.restartedAt && h.status === 200)).toBeDefined();
  expect(load.operations.filter((o) => o.outcome === 'acked').length).toBeGreaterThan(40);
});
