import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { checkHealth } from '@tessera/grpc';
import type { TestAuth } from '@tessera/auth';
import { deleteConsumerGroups, kafkaSecurityFromEnv } from '@tessera/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { waitFor } from '@tessera/testing';

export const ROOT = path.resolve(__dirname, '../../../..');
const DIST = path.join(ROOT, 'services/transactions/dist');

/** Compiles the service once so the child runs exactly what production runs (node dist/main.js). */
export function buildTransactions(): void {
  execFileSync('npx', ['tsc', '-b', 'services/transactions/tsconfig.app.json'], { cwd: ROOT, stdio: 'inherit' });
}

export interface ServiceProcessOptions {
  port: number;
  databaseUrl: string;
  complianceAddr: string;
  /** The throwaway issuer whose JWKS and API key store the child verifies callers against. */
  auth: TestAuth;
  /** Extra environment (e.g. LOG_LEVEL, TRANSACTIONS_PII_KEYS). */
  env?: Record<string, string>;
  /** Receives every chunk the child writes to stdout/stderr; without it stderr is inherited. */
  onOutput?: (chunk: string) => void;
}

/**
 * The pings consumer group of the children this test file starts (a file's children share it, as replicas of one
 * service would); `deletePingsGroup` removes it when the file is done.
 */
export const PINGS_GROUP = `transactions.pings-test-${randomUUID().slice(0, 8)}`;

/** Deletes this file's pings group from the broker (best effort), once its children have stopped. */
export function deletePingsGroup(): Promise<void> {
  const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092').split(',');
  return deleteConsumerGroups(
    new Kafka({ ...kafkaSecurityFromEnv(), clientId: 'transactions-test-cleanup', brokers, logLevel: logLevel.NOTHING }),
    [PINGS_GROUP],
  );
}

/** Starts `node dist/main.js` as a child and waits until its gRPC health check reports SERVING. */
export async function startTransactions(options: ServiceProcessOptions): Promise<ChildProcess> {
  const proc = spawn(process.execPath, ['-r', path.join(DIST, 'instrumentation.js'), path.join(DIST, 'main.js')], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      TRANSACTIONS_GRPC_PORT: String(options.port),
      TRANSACTIONS_DATABASE_URL: options.databaseUrl,
      // Each process its own audit anchor (a shared topic would hold other databases' checkpoints); off unless asked.
      TRANSACTIONS_AUDIT_CHECKPOINT_MS: '0',
      TRANSACTIONS_AUDIT_CHECKPOINT_TOPIC: `test.audit-checkpoints.${path.basename(options.databaseUrl.split('?')[0] ?? 'db')}`,
      TRANSACTIONS_DB_POOL_MAX: '10',
      TRANSACTIONS_PINGS_GROUP: PINGS_GROUP,
      TRANSACTIONS_OUTBOX_POLL_MS: '20',
      COMPLIANCE_ADDR: options.complianceAddr,
      TRANSACTIONS_SCREEN_DEADLINE_MS: '2000',
      KAFKA_BROKERS: process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092',
      // Explicit dev-mode transport: these suites are about the ledger; mTLS is tested in libs/grpc and e2e.
      TESSERA_GRPC_PLAINTEXT: 'true',
      ...options.auth.env,
      ...options.env,
    },
    stdio: ['ignore', options.onOutput ? 'pipe' : 'ignore', options.onOutput ? 'pipe' : 'inherit'],
  });
  if (options.onOutput) {
    proc.stdout?.setEncoding('utf8').on('data', options.onOutput);
    proc.stderr?.setEncoding('utf8').on('data', options.onOutput);
  }
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`transactions exited with ${proc.exitCode}`);
    const status = await checkHealth(`127.0.0.1:${options.port}`, 'tessera.payments.v1.TransferService', { timeoutMs: 500 }).catch(
      () => 'DOWN',
    );
    if (status === 'SERVING') return proc;
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error('transactions did not become healthy');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * SIGTERM (the service drains and leaves its consumer group), SIGKILL after `graceMs`; then this file's pings group
 * is deleted. For afterAll: a hard kill would leave the group with a member until its session times out.
 */
export async function stopAndCleanUp(proc: ChildProcess | undefined, graceMs = 10_000): Promise<void> {
  if (proc && proc.exitCode === null && proc.signalCode === null) {
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
  await deletePingsGroup();
}

/** SIGKILL (no shutdown hooks run) and wait for the exit. */
export async function killHard(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGKILL');
  await exited;
}

export function until(predicate: () => Promise<boolean> | boolean, timeoutMs = 30_000, what = 'condition'): Promise<void> {
  return waitFor(what, predicate, { timeoutMs, intervalMs: 100, retryOn: () => false });
}
