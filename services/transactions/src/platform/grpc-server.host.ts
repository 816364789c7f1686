import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { descriptorSetPath, paymentsV1 } from '@tessera/contracts';
import { createGrpcServer, type GrpcServerHandle, unaryService } from '@tessera/grpc';
import { createLogger } from '@tessera/telemetry';
import { AccountsGrpc } from '../accounts/accounts.grpc';
import { AuditGrpc } from '../audit/audit.grpc';
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
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.handle = await createGrpcServer({
      port: this.config.TRANSACTIONS_GRPC_PORT,
      host: this.config.TRANSACTIONS_GRPC_HOST,
      descriptorSetPath,
      logger: this.logger,
      services: [
        { definition: paymentsV1.AccountServiceService, implementation: unaryService(paymentsV1.AccountServiceService, this.accounts.implementation()) },
        { definition: paymentsV1.AuditServiceService, implementation: unaryService(paymentsV1.AuditServiceService, this.audit.implementation()) },
        { definition: paymentsV1.TransferServiceService, implementation: unaryService(paymentsV1.TransferServiceService, this.transfers.implementation()) },
      ],
    });
    await this.refreshDatabaseHealth();
    this.probe = setInterval(() => void this.refreshDatabaseHealth(), this.config.TRANSACTIONS_DB_PROBE_INTERVAL_MS);
    this.probe.unref();
    this.logger.info({ port: this.handle.port }, 'transactions gRPC listening');
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
