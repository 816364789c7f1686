import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { paymentsV1 } from '@tessera/contracts';
import { serviceNameOf, unaryService } from '@tessera/grpc';
import { type CallerAuthenticator, GuardedGrpcServer } from '@tessera/auth';
import { AccountsGrpc } from '../accounts/accounts.grpc';
import { AuditGrpc } from '../audit/audit.grpc';
import { CALLER_AUTHENTICATOR } from '../auth/auth.provider';
import { ACCOUNT_POLICY, AUDIT_POLICY, TRANSFER_POLICY } from '../auth/transactions.policy';
import { type TransactionsConfig, TRANSACTIONS_CONFIG } from '../config';
import { TransfersGrpc } from '../transfers/transfers.grpc';
import { PrismaService } from './prisma.provider';

/**
 * Hosts the gRPC server inside the Nest application context (@tessera/auth `GuardedGrpcServer`). AccountService and
 * TransferService report SERVING only while Postgres answers (probed on an interval), which is how the gateway's
 * /health sees the database.
 */
@Injectable()
export class GrpcServerHost implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly server: GuardedGrpcServer;

  constructor(
    @Inject(TRANSACTIONS_CONFIG) config: TransactionsConfig,
    accounts: AccountsGrpc,
    audit: AuditGrpc,
    transfers: TransfersGrpc,
    prisma: PrismaService,
    @Inject(CALLER_AUTHENTICATOR) authenticator: CallerAuthenticator,
  ) {
    this.server = new GuardedGrpcServer({
      name: 'transactions',
      port: config.TRANSACTIONS_GRPC_PORT,
      host: config.TRANSACTIONS_GRPC_HOST,
      authenticator,
      // Every RPC passes its policy (auth/transactions.policy.ts) before its handler runs.
      services: [
        {
          definition: paymentsV1.AccountServiceService,
          policies: ACCOUNT_POLICY,
          implementation: unaryService(paymentsV1.AccountServiceService, accounts.implementation()),
        },
        {
          definition: paymentsV1.AuditServiceService,
          policies: AUDIT_POLICY,
          implementation: unaryService(paymentsV1.AuditServiceService, audit.implementation()),
        },
        {
          definition: paymentsV1.TransferServiceService,
          policies: TRANSFER_POLICY,
          implementation: unaryService(paymentsV1.TransferServiceService, transfers.implementation()),
        },
      ],
      health: {
        services: [serviceNameOf(paymentsV1.AccountServiceService), serviceNameOf(paymentsV1.TransferServiceService)],
        probe: () => prisma.ping(),
        intervalMs: config.TRANSACTIONS_DB_PROBE_INTERVAL_MS,
      },
    });
  }

  /** The bound port (tests bind port 0). */
  get port(): number | undefined {
    return this.server.port;
  }

  onApplicationBootstrap(): Promise<void> {
    return this.server.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.server.stop();
  }
}
