/**
 * Lab 4: kill a service (or switch a fault on) under load and watch the guarantees hold. `npm run lab -- load` holds a
 * transfer load on fresh accounts, every client retrying its Idempotency-Key as the API tells it to, and saves what
 * each operation ended with; meanwhile the learner kills transactions or compliance (kill -9, then `services up`) or
 * switches a fault toggle on. The checker runs the chaos scenarios' invariants (tests/chaos) over that record: money
 * neither lost nor created, every acknowledged transfer there once with the id the client got, every operation settled,
 * the outbox drained, the audit chain intact, and the fault was felt (some operation had to retry).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { paymentInvariants } from '../../../tests/chaos/support/invariants';
import { type Operation, runTransferLoad } from '../../../tests/chaos/support/transfer-load';
import { faultsCommand } from '../../../infra/local/faults';
import { Api, fail, type Finding, type Lab, pass } from './lab-kit';
import { type LabTarget, withDatabase } from './target';

interface LoadRecord {
  source: string;
  destination: string;
  startedAt: string;
  seconds: number;
  statuses: Record<string, number>;
  operations: (Omit<Operation, 'amountMinor'> & { amountMinor: string })[];
}

const recordFile = (target: LabTarget) => path.join(target.stateDir, 'lab4-load.json');

/** `npm run lab -- load [--seconds 40] [--clients 4]`: the load, with a line of progress every 5 s. */
export async function runLabLoad(target: LabTarget, seconds: number, clients: number, log: (line: string) => void): Promise<LoadRecord> {
  const api = new Api(target, 'lab4-operator');
  const run = Date.now().toString(36);
  const source = await api.openAccount(`lab4-source-${run}`, '1000000000');
  const destination = await api.openAccount(`lab4-destination-${run}`);
  const startedAt = new Date().toISOString();
  let done = false;
  const progress = (async () => {
    for (let s = 5; !done && s <= seconds; s += 5) {
      await sleep(5000);
      if (!done) log(`  ${s} s of ${seconds}...`);
    }
  })();
  // One principal per client, each paced under the gateway's per-principal write limit (120 a minute by default), so
  // what the load sees is the fault, not the rate limiter.
  const loads = await Promise.all(
    Array.from({ length: clients }, async (_, i) =>
      runTransferLoad({
        gateway: target.gateway,
        headers: await target.bearer(`lab4-operator-${i + 1}`, ['operator']),
        source,
        destination,
        clients: 1,
        durationMs: seconds * 1000,
        settleMs: 60_000,
        requestTimeoutMs: 5_000,
        pauseMs: 500,
      }),
    ),
  );
  const load = {
    operations: loads.flatMap((l) => l.operations),
    statuses: loads.reduce<Record<string, number>>((all, l) => {
      for (const [k, v] of Object.entries(l.statuses)) all[k] = (all[k] ?? 0) + v;
      return all;
    }, {}),
  };
  done = true;
  await progress;
  const record: LoadRecord = {
    source,
    destination,
    startedAt,
    seconds,
    statuses: load.statuses,
    operations: load.operations.map((o) => ({ ...o, amountMinor: o.amountMinor.toString() })),
  };
  writeFileSync(recordFile(target), `${JSON.stringify(record, null, 2)}\n`);
  const acked = record.operations.filter((o) => o.outcome === 'acked').length;
  log(
    `${record.operations.length} operations, ${acked} acknowledged; answers ${JSON.stringify(load.statuses)}; saved ${recordFile(target)}`,
  );
  return record;
}

export const lab4: Lab = {
  id: 4,
  title: 'Kill a service under load and watch the guarantees hold',
  doc: '04-break-it-under-load.md',

  async check(target) {
    if (!existsSync(recordFile(target)))
      return [fail('no load has run yet', 'npm run lab -- load (step 1), and break something while it runs')];
    const record = JSON.parse(readFileSync(recordFile(target), 'utf8')) as LoadRecord;
    const operations: Operation[] = record.operations.map((o) => ({ ...o, amountMinor: BigInt(o.amountMinor) }));
    const findings: Finding[] = [pass(`a load of ${operations.length} operations ran at ${record.startedAt} (${record.seconds} s)`)];
    // A 429 is the rate limiter, not a fault: only failures count as the fault being felt.
    const retried = operations.filter((o) => o.retried.some((r) => r !== '429'));
    findings.push(
      retried.length > 0
        ? pass(
            `the fault was felt: ${retried.length} operation(s) retried (${[...new Set(retried.flatMap((o) => o.retried))].sort().join(', ')})`,
          )
        : fail(
            'no operation had to retry: nothing broke during the load',
            'run the load again and kill -9 a service or switch a fault on while it runs (step 2)',
          ),
    );
    const auditor = await target.bearer('lab4-auditor', ['auditor']);
    const invariants = await withDatabase(target.databases.transactions, (tx) =>
      paymentInvariants({
        tx,
        operations,
        source: record.source,
        destination: record.destination,
        verifyAudit: async () =>
          (await fetch(`${target.gateway}/v1/audit/verify`, { headers: auditor })).json() as Promise<{
            valid: boolean;
            recordsChecked: string;
            failureReason: string | null;
          }>,
      }),
    );
    for (const i of invariants)
      findings.push(
        i.ok
          ? pass(`${i.name}: ${i.detail}`)
          : fail(`${i.name}: ${i.detail}`, 'a guarantee broke: keep the logs (npm run infra -- logs) and open an issue'),
      );
    return findings;
  },

  async solve(target, log) {
    const seconds = 20;
    const [record] = await Promise.all([
      runLabLoad(target, seconds, 4, log),
      (async () => {
        await sleep(5_000);
        await faultsCommand(target.admin.transactions, target.adminToken, ['db', 'errorRate=0.5', 'durationSec=6']);
        log('transactions db errorRate=0.5 for 6 s');
      })(),
    ]);
    if (!record.operations.some((o) => o.retried.some((r) => r !== '429'))) throw new Error('the fault was not felt');
    return {};
  },
};
