/**
 * Chaos scenarios on the payment services' processes under transfer load (issue #14, scenarios 1 and 4):
 * kill -9 of transactions and of compliance mid-load, several times, each started again by the test; and a gray
 * failure, transactions frozen with SIGSTOP for longer than the gateway's deadline, then SIGCONT. Every client retries
 * its Idempotency-Key; afterwards nothing is lost, duplicated or left unsettled and every invariant holds.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { startPaymentsPlatform, type PaymentsPlatform } from '../e2e/support/payments-platform';
import { runPaymentsScenario } from './support/scenario';

jest.setTimeout(240_000);

let platform: PaymentsPlatform;

beforeAll(async () => {
  platform = await startPaymentsPlatform(18380, { env: { GATEWAY_RATE_LIMITS: 'write=100000/60s,read=100000/60s' } });
}, 180_000);

afterAll(() => platform?.stop(), 120_000);

const pidOf = (name: string) => platform.services.find((s) => s.name === name)?.process;

it('survives kill -9 of transactions and compliance, twice each, with every transfer exactly once', async () => {
  const { load, invariants } = await runPaymentsScenario({
    name: 'kill-9-payments',
    platform,
    clients: 6,
    loadMs: 36_000,
    fault: async (elapsed) => {
      const done: string[] = [];
      for (const [at, name] of [[4_000, 'transactions'], [12_000, 'compliance'], [20_000, 'transactions'], [28_000, 'compliance']] as const) {
        await sleep(Math.max(0, at - elapsed()));
        pidOf(name)?.kill('SIGKILL');
        const killedAt = elapsed();
        await sleep(1500);
        await platform.restart(name);
        done.push(`kill -9 ${name} at ${(killedAt / 1000).toFixed(1)} s, serving again at ${(elapsed() / 1000).toFixed(1)} s`);
      }
      return done;
    },
  });
  expect(invariants.filter((i) => !i.ok)).toEqual([]);
  expect(load.statuses['500'] ?? 0).toBe(0);
  expect(load.unavailableWithoutRetryAfter).toBe(0);
  expect(load.operations.some((o) => o.retried.length > 0)).toBe(true); // the kills were felt
});

it('rides out a frozen transactions process (SIGSTOP past the deadline, then SIGCONT) with nothing posted twice', async () => {
  const { load, invariants } = await runPaymentsScenario({
    name: 'sigstop-transactions',
    platform,
    clients: 6,
    loadMs: 24_000,
    // Short client timeouts: a request the frozen process holds is abandoned and retried with its key (the gray
    // failure's worst case: the first attempt may still commit when the process wakes).
    requestTimeoutMs: 4_000,
    fault: async (elapsed) => {
      await sleep(5_000);
      const child = pidOf('transactions');
      child?.kill('SIGSTOP');
      const stoppedAt = elapsed();
      await sleep(9_000);
      child?.kill('SIGCONT');
      return [`SIGSTOP transactions at ${(stoppedAt / 1000).toFixed(1)} s`, `SIGCONT at ${(elapsed() / 1000).toFixed(1)} s`];
    },
  });
  expect(invariants.filter((i) => !i.ok)).toEqual([]);
  expect(load.statuses['500'] ?? 0).toBe(0);
  expect(load.operations.some((o) => o.retried.length > 0)).toBe(true); // callers' deadlines fired
});
