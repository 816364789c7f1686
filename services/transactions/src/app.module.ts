import { type DynamicModule, Module } from '@nestjs/common';
import { AccountsGrpc } from './accounts/accounts.grpc';
import { AuditTrail } from './audit/audit-trail';
import { AccountRepository } from './accounts/account.repository';
import { GetAccountHandler } from './accounts/get-account/get-account.handler';
import { ListAccountsHandler } from './accounts/list-accounts/list-accounts.handler';
import { OpenAccountHandler } from './accounts/open-account/open-account.handler';
import { type TransactionsConfig, TRANSACTIONS_CONFIG } from './config';
import { PingsConsumer } from './diagnostics/pings.consumer';
import { RecordPingHandler } from './diagnostics/record-ping/record-ping.handler';
import { Outbox } from './outbox/outbox';
import { OutboxRelayService } from './outbox/outbox-relay';
import { piiKeyringProvider } from './pii/pii-keyring';
import { PiiVault } from './pii/pii-vault';
import { GrpcServerHost } from './platform/grpc-server.host';
import { PrismaService } from './platform/prisma.provider';

@Module({})
export class AppModule {
  static forRoot(config: TransactionsConfig): DynamicModule {
    return {
      module: AppModule,
      providers: [
        { provide: TRANSACTIONS_CONFIG, useValue: config },
        PrismaService,
        AuditTrail,
        Outbox,
        OutboxRelayService,
        piiKeyringProvider,
        PiiVault,
        AccountRepository,
        OpenAccountHandler,
        GetAccountHandler,
        ListAccountsHandler,
        AccountsGrpc,
        RecordPingHandler,
        PingsConsumer,
        GrpcServerHost,
      ],
    };
  }
}
