import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { complianceV1, descriptorSetPath } from '@tessera/contracts';
import { AppError } from '@tessera/errors';
import { checkHealth, createGrpcServer, type GrpcServerHandle, unaryService } from '@tessera/grpc';
import type { TestAuth } from '@tessera/auth';
import { deleteConsumerGroups, kafkaSecurityFromEnv } from '@tessera/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { freePort, waitFor } from '@tessera/testing';

export const ROOT = path.resolve(__dirname, '../../../..');
const DIST = path.join(ROOT, 'services/transactions/dist');

/** Compiles the service once so the child runs exactly what production runs (node dist/main.js). */
export function buildTransactions(): void {
  execFileSync('npx', ['tsc', '-b', 'services/transactions/tsconfig.app.json'], { cwd: ROOT, stdio: 'inherit' });
}

/**
 * A real ComplianceService gRPC server that approves every movement: transactions screens each transfer
 * before commit (fail-closed), so process-level tests need something real listening at COMPLIANCE_ADDR.
 * It keeps compliance's idempotency contract: the same screening key with the same subject replays the first
 * decision; with another subject it is refused with COMPLIANCE.IDEMPOTENCY_KEY_REUSED (FAILED_PRECONDITION),
 * exactly as the real service does (`ScreenHandler`), so retries are tested against the real rule.
 */
export async function approvingCompliance(options: { latencyMs?: number } = {}): Promise<
  GrpcServerHandle & {
    screened: () => number;
    decided: () => number;
    calls: () => { screen: number; screenBatch: number };
    /** Every call: the credential it forwarded and the screening keys it carried. */
    log: () => Array<{ authorization: string | undefined; keys: string[] }>;
  }
> {
  let screened = 0;
  const calls = { screen: 0, screenBatch: 0 };
  const log: Array<{ authorization: string | undefined; keys: string[] }> = [];
  /** A slow compliance (`latencyMs` per call) lets a test see concurrent screenings share a call. */
  const answer = async <T>(method: keyof typeof calls, ctx: { authorization: string | undefined }, keys: string[], decideNow: () => T) => {
    calls[method]++;
    log.push({ authorization: ctx.authorization, keys });
    if (options.latencyMs) await new Promise((resolve) => setTimeout(resolve, options.latencyMs));
    return decideNow();
  };
  const decisions = new Map<string, { subject: string; response: complianceV1.ScreenResponse }>();
  const subjectOf = (request: complianceV1.ScreenRequest) =>
    JSON.stringify({ ...request.subject, requestedAt: undefined }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  /** The prior decision of this key, or undefined; a reused key with another subject is refused like compliance does. */
  const check = (request: complianceV1.ScreenRequest) => {
    const prior = decisions.get(request.idempotencyKey);
    if (prior && prior.subject !== subjectOf(request)) {
      throw new AppError({
        code: 'COMPLIANCE.IDEMPOTENCY_KEY_REUSED',
        kind: 'FAILED_PRECONDITION',
        message: 'idempotency key was used for a different screening',
      });
    }
    return prior;
  };
  const decide = (request: complianceV1.ScreenRequest) => {
    screened++;
    const prior = check(request);
    if (prior) return prior.response;
    const response = complianceV1.ScreenResponse.fromPartial({
      screeningId: randomUUID(),
      decision: complianceV1.Decision.DECISION_APPROVE,
      reasons: [],
      ruleVersion: 'test-approve-all',
      riskScore: 0,
    });
    decisions.set(request.idempotencyKey, { subject: subjectOf(request), response });
    return response;
  };
  const handle = await createGrpcServer({
    port: await freePort(),
    host: '127.0.0.1',
    descriptorSetPath,
    services: [
      {
        definition: complianceV1.ComplianceServiceService,
        implementation: unaryService(complianceV1.ComplianceServiceService, {
          screen: (request: complianceV1.ScreenRequest, ctx) => answer('screen', ctx, [request.idempotencyKey], () => decide(request)),
          // All or nothing like the real one: a key used twice in the call, or reused for another subject, refuses the
          // whole call before anything is decided.
          screenBatch: (request: complianceV1.ScreenBatchRequest, ctx) =>
            answer(
              'screenBatch',
              ctx,
              request.items.map((i) => i.idempotencyKey),
              () => {
                const keys = request.items.map((i) => i.idempotencyKey);
                if (new Set(keys).size !== keys.length) {
                  throw new AppError({
                    code: 'COMPLIANCE.INVALID_REQUEST',
                    kind: 'INVALID_ARGUMENT',
                    message: 'request is invalid',
                    fieldViolations: [{ field: 'items', description: 'same key twice' }],
                  });
                }
                for (const item of request.items) check(item);
                return { items: request.items.map(decide) };
              },
            ),
          listAlerts: async () => ({ alerts: [] }),
          assignAlert: async () => ({}),
          resolveAlert: async () => ({}),
        }),
      },
    ],
  });
  return Object.assign(handle, {
    screened: () => screened,
    decided: () => decisions.size,
    calls: () => ({ ...calls }),
    log: () => [...log],
  });
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
