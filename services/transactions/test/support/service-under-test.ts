import type { ChildProcess } from 'node:child_process';
import { paymentsV1 } from '@tessera/contracts';
import { createGrpcClient } from '@tessera/grpc';
import { startTestAuth, type TestAuth } from '@tessera/auth';
import { sendAs, staffAuthorization } from './auth-client';
import { buildTransactions, deletePingsGroup, startTransactions, stopAndCleanUp } from './service-process';
import { approvingCompliance } from '@tessera/testing';
import { freePort } from '@tessera/testing';
import { throwawayDb, type ThrowawayDb } from './throwaway-db';

/** The real transactions service of a test file, with everything it needs, and clients calling it as staff. */
export interface ServiceUnderTest {
  db: ThrowawayDb;
  auth: TestAuth;
  compliance: Awaited<ReturnType<typeof approvingCompliance>>;
  child: ChildProcess;
  /** host:port of its gRPC server. */
  address: string;
  accounts: paymentsV1.AccountServiceClient;
  transfers: paymentsV1.TransferServiceClient;
  /** Stops the service (SIGTERM) and starts it again on the same port, database and compliance. */
  restart(): Promise<void>;
  /** Stops the service and the in-test compliance, drops the database, deletes the file's consumer group. */
  stop(): Promise<void>;
}

/**
 * Builds and starts the service as a child process (what production runs) on a throwaway database `label`, screened by
 * the in-test ComplianceService (`compliance`: its options), with `env` on top of the defaults. The clients do not
 * retry (a test sees every answer) and wait `deadlineMs`.
 */
export async function startServiceUnderTest(
  label: string,
  options: { compliance?: Parameters<typeof approvingCompliance>[0]; env?: Record<string, string>; deadlineMs?: number } = {},
): Promise<ServiceUnderTest> {
  buildTransactions();
  const auth = await startTestAuth();
  const db = await throwawayDb(label);
  const compliance = await approvingCompliance(options.compliance);
  const port = await freePort();
  const start = () =>
    startTransactions({
      port,
      databaseUrl: db.url,
      complianceAddr: `127.0.0.1:${compliance.port}`,
      auth,
      ...(options.env ? { env: options.env } : {}),
    });
  let child = await start();
  const address = `127.0.0.1:${port}`;
  const clientOptions = {
    retry: 'none' as const,
    defaultDeadlineMs: options.deadlineMs ?? 15_000,
    ...sendAs(await staffAuthorization(auth)),
  };
  const accounts = createGrpcClient(paymentsV1.AccountServiceClient, address, clientOptions);
  const transfers = createGrpcClient(paymentsV1.TransferServiceClient, address, clientOptions);
  return {
    db,
    auth,
    compliance,
    address,
    accounts,
    transfers,
    get child() {
      return child;
    },
    restart: async () => {
      await stopAndCleanUp(child);
      child = await start();
    },
    stop: async () => {
      accounts.close();
      transfers.close();
      await stopAndCleanUp(child);
      await compliance.shutdown();
      await db.drop();
      await deletePingsGroup();
      auth.close();
    },
  };
}
