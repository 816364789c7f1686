/**
 * The transactions service alone: its cost per transfer without the gateway, compliance's rules or the platform's
 * consumers around it (the end-to-end numbers are `npm run bench -- transfers`). The built service runs as a child
 * process against a throwaway database on the local PostgreSQL, screened by the in-test approving compliance
 * (test/support/service-process.ts: every movement approved, compliance's idempotency rule kept), and
 * `CLIENTS` gRPC clients send CreateTransfer (random pairs over `ACCOUNTS` accounts) and then CreateTransferBatch
 * of `BATCH` transfers, each for `SECONDS`. Reports transfers/s, latency and CPU ms per transfer of the service
 * and of PostgreSQL (every postgres process of the machine: run it on a quiet platform).
 *
 *   npm run infra -- up && npx nx build transactions && npx tsx services/transactions/bench/ledger.bench.ts [seconds]
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { paymentsV1 } from '@tessera/contracts';
import { createGrpcClient, unaryCall } from '@tessera/grpc';
import { startTestAuth } from '@tessera/auth';
import { sendAs, staffAuthorization } from '../test/support/auth-client';
import { deletePingsGroup, startTransactions, stopAndCleanUp } from '../test/support/service-process';
import { approvingCompliance } from '@tessera/testing';
import { freePort } from '@tessera/testing';
import { throwawayDb } from '../test/support/throwaway-db';

const CLIENTS = 16;
const ACCOUNTS = 200;
const BATCH = 50;
const SECONDS = Number(process.argv[2] ?? 10);
const TICKS = 100; // /proc clock ticks per second (USER_HZ on Linux)

/** utime+stime seconds of the pids (a process that vanished counts 0). */
function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      /* gone */
    }
  }
  return ticks / TICKS;
}

function postgresPids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/comm`, 'utf8').trim().startsWith('postgres');
      } catch {
        return false;
      }
    })
    .map(Number);
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0;

async function main(): Promise<void> {
  const auth = await startTestAuth();
  const staff = await staffAuthorization(auth);
  const db = await throwawayDb('ledgerbench');
  const compliance = await approvingCompliance();
  const port = await freePort();
  let child: ChildProcess | undefined;
  try {
    child = await startTransactions({
      port,
      databaseUrl: db.url,
      complianceAddr: `127.0.0.1:${compliance.port}`,
      auth,
      env: {
        LOG_LEVEL: 'warn',
        ...(process.env['LEDGER_BENCH_PROFILE_DIR']
          ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env['LEDGER_BENCH_PROFILE_DIR']}` }
          : {}),
      },
    });
    const options = { retry: 'none' as const, defaultDeadlineMs: 30_000, ...sendAs(staff) };
    const accounts = createGrpcClient(paymentsV1.AccountServiceClient, `127.0.0.1:${port}`, options);
    const transfers = createGrpcClient(paymentsV1.TransferServiceClient, `127.0.0.1:${port}`, options);
    const ids: string[] = [];
    for (let i = 0; i < ACCOUNTS; i++) {
      const { account } = await unaryCall(accounts, 'openAccount', {
        idempotencyKey: `bench-open-${randomUUID()}`,
        ownerId: `bench-${i}`,
        name: 'bench',
        type: paymentsV1.AccountType.ACCOUNT_TYPE_ASSET,
        currency: 'EUR',
        overdraftLimitMinor: 10n ** 12n,
        labels: {},
      });
      if (!account) throw new Error('OpenAccount returned no account');
      ids.push(account.id);
    }
    const pick = () => {
      const a = Math.floor(Math.random() * ids.length);
      const b = (a + 1 + Math.floor(Math.random() * (ids.length - 1))) % ids.length;
      return paymentsV1.TransferInstruction.fromPartial({
        sourceAccountId: ids[a],
        destinationAccountId: ids[b],
        amount: { amountMinor: BigInt(100 + Math.floor(Math.random() * 2400)), currency: 'EUR' },
      });
    };
    const pids = { transactions: [child.pid ?? 0], postgres: postgresPids() };
    for (const [name, perRequest] of [
      ['single CreateTransfer', 1],
      [`CreateTransferBatch of ${BATCH}`, BATCH],
    ] as const) {
      const latencies: number[] = [];
      let failed = 0;
      const before = { t: cpuSeconds(pids.transactions), p: cpuSeconds(pids.postgres) };
      const started = Date.now();
      const until = started + SECONDS * 1000;
      await Promise.all(
        Array.from({ length: CLIENTS }, async () => {
          while (Date.now() < until) {
            const t0 = performance.now();
            try {
              if (perRequest === 1)
                await unaryCall(transfers, 'createTransfer', { idempotencyKey: `bench-${randomUUID()}`, transfer: pick() });
              else
                await unaryCall(transfers, 'createTransferBatch', {
                  idempotencyKey: `bench-${randomUUID()}`,
                  transfers: Array.from({ length: BATCH }, pick),
                });
              latencies.push(performance.now() - t0);
            } catch {
              failed++;
            }
          }
        }),
      );
      const wall = (Date.now() - started) / 1000;
      const created = latencies.length * perRequest;
      const cpu = { t: cpuSeconds(pids.transactions) - before.t, p: cpuSeconds(pids.postgres) - before.p };
      console.log(
        `${name.padEnd(28)} ${(created / wall).toFixed(1).padStart(7)} transfers/s  p50 ${pct(latencies, 50).toFixed(0)} ms  p99 ${pct(latencies, 99).toFixed(0)} ms  failed ${failed}` +
          `  CPU ms/transfer: transactions ${((cpu.t / created) * 1000).toFixed(2)}, postgres ${((cpu.p / created) * 1000).toFixed(2)}`,
      );
    }
    accounts.close();
    transfers.close();
  } finally {
    await stopAndCleanUp(child);
    await compliance.shutdown();
    await db.drop();
    await deletePingsGroup();
    auth.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
