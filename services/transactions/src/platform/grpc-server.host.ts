import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { descriptorSetPath, paymentsV1 } from '@tessera/contracts';
import { createGrpcServer, type GrpcServerHandle, grpcTransportFromEnv, unaryService } from '@tessera/grpc';
import { type CallerAuthenticator, guardService } from '@tessera/auth';
import { createLogger } from '@tessera/telemetry';
import { AccountsGrpc } from '../accounts/accounts.grpc';
import { AuditGrpc } from '../audit/audit.grpc';
import { CALLER_AUTHENTICATOR } from '../auth/auth.provider';
import { ACCOUNT_POLICY, AUDIT_POLICY, TRANSFER_POLICY } from '../auth/transactions.policy';
import { type TransactionsConfig, TRANSACTIONS_CONFIG } from '../config';
import { TransfersGrpc } from '../transfers/transfers.grpc';
import { PrismaService } from './prisma.provider';

const ACCOUNT_SERVICE = 'tessera.payments.v1.AccountService';
const TRANSFER_SERVICE = 'tessera.payments.v1.TransferService';

/**
 * Hosts the gRPC server inside the Nest application context. AccountService and TransferService report SERVING only while
 * Postgres answers (probed on an interval), which is how the gateway's /health sees the database.
 */
@Injectable()
export class GrpcServerHost implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = createLogger('GrpcServerHost');
  private handle?: GrpcServerHandle;
  private probe?: NodeJS.Timeout;

  constructor(
    @Inject(TRANSACTIONS_CONFIG) private readonly config: TransactionsConfig,
    private readonly accounts: AccountsGrpc,
    private readonly audit: AuditGrpc,
    private readonly transfers: TransfersGrpc,
    private readonly prisma: PrismaService,
    @Inject(CALLER_AUTHENTICATOR) private readonly authenticator: CallerAuthenticator,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.handle = await createGrpcServer({
      port: this.config.TRANSACTIONS_GRPC_PORT,
      host: this.config.TRANSACTIONS_GRPC_HOST,
      descriptorSetPath,
      transport: grpcTransportFromEnv('transactions'), // mTLS as transactions (or the explicit plaintext dev mode); throws with the fix when certs are missing
      logger: this.logger,
      // Every RPC passes its policy (auth/transactions.policy.ts) before its handler runs.
      services: [
        { definition: paymentsV1.AccountServiceService, implementation: this.guard(paymentsV1.AccountServiceService, ACCOUNT_POLICY, unaryService(paymentsV1.AccountServiceService, this.accounts.implementation())) },
        { definition: paymentsV1.AuditServiceService, implementation: this.guard(paymentsV1.AuditServiceService, AUDIT_POLICY, unaryService(paymentsV1.AuditServiceService, this.audit.implementation())) },
        { definition: paymentsV1.TransferServiceService, implementation: this.guard(paymentsV1.TransferServiceService, TRANSFER_POLICY, unaryService(paymentsV1.TransferServiceService, this.transfers.implementation())) },
      ],
    });
    await this.refreshDatabaseHealth();
    this.probe = setInterval(() => void this.refreshDatabaseHealth(), this.config.TRANSACTIONS_DB_PROBE_INTERVAL_MS);
    this.probe.unref();
    this.logger.info({ port: this.handle.port }, 'transactions gRPC listening');
  }

  private guard(definition: Parameters<typeof guardService>[0], policies: Parameters<typeof guardService>[1], implementation: UntypedServiceImplementation) {
    return guardService(definition, policies, implementation, this.authenticator, this.logger);
  }

  private async refreshDatabaseHealth(): Promise<void> {
    const up = await this.prisma.ping();
    for (const service of [ACCOUNT_SERVICE, TRANSFER_SERVICE]) this.handle?.health.setStatus(service, up ? 'SERVING' : 'NOT_SERVING');
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.probe);
    await this.handle?.shutdown();
  }
}
