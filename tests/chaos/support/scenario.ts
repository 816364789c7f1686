/**
 * One payments chaos scenario: fresh accounts, bounded transfer load, a fault injected while it runs, the platform's
 * /health watched every 500 ms, then the invariants and the scenario's result for the report.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { kafkaSecurityFromEnv, readTopicSnapshot } from '@tessera/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import type { PaymentsPlatform } from '../../e2e/support/payments-platform';
import { type Invariant, paymentInvariants } from './invariants';
import { type ScenarioResult, writeScenarioResult } from './report';
import { type LoadResult, runTransferLoad } from './transfer-load';

/**
 * The payments scenarios' platform settings: the gateway's per-client limits raised (the load would be mostly 429s) and
 * compliance on rules/rules.v900.yaml (velocity and daily limits raised), so the transfers post instead of being held
 * for review after the tenth in a minute and the money invariants cover nearly every transfer of a run.
 */
export const CHAOS_PAYMENTS_ENV = {
  GATEWAY_RATE_LIMITS: 'write=100000/60s,read=100000/60s',
  COMPLIANCE_RULES_FILE: join(__dirname, 'rules', 'rules.v900.yaml'),
} as const;

export interface ScenarioOptions {
  name: string;
  platform: PaymentsPlatform;
  clients: number;
  loadMs: number;
  /** Runs beside the load from its start (`elapsed()` = ms since then); returns what it did, for the report. */
  fault: (elapsed: () => number) => Promise<string[]>;
  /** How long one operation may keep retrying (default 45 s). */
  settleMs?: number;
  /** Abandon a request after this long and retry it with the same key (default 10 s). */
  requestTimeoutMs?: number;
  /** The cluster the platform uses (default the shared one, KAFKA_* of this process). */
  kafka?: Kafka;
}

export interface ScenarioOutcome {
  load: LoadResult;
  invariants: Invariant[];
  health: { at: number; status: number | 'network' }[];
  result: ScenarioResult;
}

/** " (from-to s)" of a list of polls, or "" when empty. */
function window(polls: { at: number }[]): string {
  const [first, last] = [polls[0], polls[polls.length - 1]];
  return first && last ? ` (${(first.at / 1000).toFixed(1)}-${(last.at / 1000).toFixed(1)} s)` : '';
}

export async function runPaymentsScenario(o: ScenarioOptions): Promise<ScenarioOutcome> {
  const { gateway, creds, run } = o.platform;
  const operator = await creds.bearer({ sub: `chaos-operator-${run}`, roles: ['operator'] });
  const auditor = await creds.bearer({ sub: `chaos-auditor-${run}`, roles: ['auditor'] });
  const open = async (owner: string, overdraft: string) => {
    const res = await fetch(`${gateway}/v1/accounts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': `chaos-open-${owner}-${run}`, ...operator },
      body: JSON.stringify({
        ownerId: `${owner}-${run}`,
        type: 'ASSET',
        currency: 'EUR',
        overdraftLimitMinor: overdraft,
        holder: { fullName: `Holder ${owner}`, address: '1 Test Street, Berlin', nationalId: `ID-${owner}-${run}`, country: 'DE' },
      }),
    });
    if (res.status !== 201) throw new Error(`opening ${owner}: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { id: string }).id;
  };
  const source = await open(`${o.name}-source`, '1000000000000');
  const destination = await open(`${o.name}-destination`, '0');

  const health: { at: number; status: number | 'network' }[] = [];
  const started = Date.now();
  const elapsed = () => Date.now() - started;
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const status = await fetch(`${gateway}/health`, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.status,
        () => 'network' as const,
      );
      health.push({ at: elapsed(), status });
      await sleep(500);
    }
  })();
  // The test's own database connections may die with a fault (PostgreSQL restarted): expected, replaced below.
  for (const c of [o.platform.tx, o.platform.co]) c.on('error', () => undefined);
  const [load, faults] = await Promise.all([
    runTransferLoad({
      gateway,
      headers: operator,
      source,
      destination,
      clients: o.clients,
      durationMs: o.loadMs,
      settleMs: o.settleMs ?? 45_000,
      requestTimeoutMs: o.requestTimeoutMs,
    }),
    o.fault(elapsed),
  ]);
  await sleep(2000);
  polling = false;
  await poller;

  const tx = new Client({ connectionString: o.platform.urls.transactions });
  await tx.connect();
  let invariants: Invariant[];
  try {
    invariants = await paymentInvariants({
      tx,
      operations: load.operations,
      source,
      destination,
      verifyAudit: async () =>
        (await fetch(`${gateway}/v1/audit/verify`, { headers: auditor })).json() as Promise<{
          valid: boolean;
          recordsChecked: string;
          failureReason: string | null;
        }>,
    });
  } finally {
    await tx.end();
  }
  // A dependency outage is not a bad message: compliance's monitor must not have dead-lettered this run's events.
  const kafka =
    o.kafka ??
    new Kafka({
      clientId: 'chaos-dlq-check',
      brokers: (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092').split(','),
      logLevel: logLevel.NOTHING,
      ...kafkaSecurityFromEnv(),
    });
  let dead = 0;
  await readTopicSnapshot(kafka, 'payments.transfer.events.v1.dlq', 'chaos-dlq-check.', (m) => {
    if (m.headers?.['dlq-consumer-group']?.toString() === o.platform.groups.monitor) dead++;
  });
  invariants.push({
    name: 'no event dead-lettered by a consumer during the fault',
    ok: dead === 0,
    detail: `${dead} letter(s) from ${o.platform.groups.monitor}`,
  });
  const ops = load.operations;
  const unhealthy = health.filter((h) => h.status !== 200);
  const result: ScenarioResult = {
    scenario: o.name,
    at: new Date().toISOString(),
    load: `${o.clients} clients, ${o.loadMs / 1000} s of transfers, retries with the same key`,
    faults,
    operations: {
      total: ops.length,
      acknowledged: ops.filter((x) => x.outcome === 'acked').length,
      refused: ops.filter((x) => x.outcome === 'refused').length,
      lost: invariants.find((i) => i.name.startsWith('every acknowledged'))?.ok ? 0 : Number.NaN,
      duplicated: invariants.find((i) => i.name.startsWith('no transfer duplicated'))?.ok ? 0 : Number.NaN,
      notCompleted: ops.filter((x) => x.outcome === 'unsettled').length,
    },
    answers: load.statuses,
    observations: [
      `gateway /health not 200 in ${unhealthy.length} of ${health.length} polls${window(unhealthy)}; 200 at the end: ${health[health.length - 1]?.status === 200}`,
      `${ops.filter((x) => x.retried.length > 0).length} operation(s) needed retries; most attempts for one: ${Math.max(0, ...ops.map((x) => x.attempts))}`,
      `503 answers without Retry-After: ${load.unavailableWithoutRetryAfter}`,
    ],
    invariants,
  };
  writeScenarioResult(result);
  return { load, invariants, health, result };
}
