import { type DynamicModule, Module } from '@nestjs/common';
import { AccountLifecycleHandler } from './accounts/account-lifecycle/account-lifecycle.handler';
import { AccountsGrpc } from './accounts/accounts.grpc';
import { AccountRepository } from './accounts/account.repository';
import { GetAccountHandler } from './accounts/get-account/get-account.handler';
import { GetBalanceHandler } from './accounts/get-balance/get-balance.handler';
import { AuditCheckpoints } from './audit/audit-checkpoints';
import { AuditGrpc } from './audit/audit.grpc';
import { AuditTrail } from './audit/audit-trail';
import { callerAuthenticatorProvider } from './auth/auth.provider';
import { OwnershipChecks } from './auth/ownership';
import { ComplianceClient } from './compliance-client/compliance.client';
import { ScreeningGate } from './compliance-client/screening.gate';
import { ListAccountsHandler } from './accounts/list-accounts/list-accounts.handler';
import { OpenAccountHandler } from './accounts/open-account/open-account.handler';
import { type TransactionsConfig, TRANSACTIONS_CONFIG } from './config';
import { PingsConsumer } from './diagnostics/pings.consumer';
import { RecordPingHandler } from './diagnostics/record-ping/record-ping.handler';
import { Outbox } from './outbox/outbox';
import { OutboxRelayService } from './outbox/outbox-relay';
import { piiVaultProvider } from './pii/pii-vault.provider';
import { HoldExpiry } from './holds/hold-expiry';
import { HoldRepository } from './holds/hold.repository';
import { AuthorizeHoldHandler } from './holds/authorize-hold/authorize-hold.handler';
import { CaptureHoldHandler } from './holds/capture-hold/capture-hold.handler';
import { VoidHoldHandler } from './holds/void-hold/void-hold.handler';
import { IdempotencyStore } from './idempotency/idempotency';
import { LedgerJournal } from './journal/ledger-journal';
import { TransferPoster } from './transfers/transfer.poster';
import { TransferRepository } from './transfers/transfer.repository';
import { LedgerRepository } from './ledger/ledger.repository';
import { GrpcServerHost } from './platform/grpc-server.host';
import { PrismaService } from './platform/prisma.provider';
import { CreateTransferBatchHandler } from './transfers/create-transfer-batch/create-transfer-batch.handler';
import { CreateTransferHandler } from './transfers/create-transfer/create-transfer.handler';
import { PostingCoalescer } from './transfers/create-transfer/posting.coalescer';
import { PreflightCoalescer } from './transfers/create-transfer/preflight.coalescer';
import { GetTransferHandler } from './transfers/get-transfer/get-transfer.handler';
import { ListTransfersHandler } from './transfers/list-transfers/list-transfers.handler';
import { ReverseTransferHandler } from './transfers/reverse-transfer/reverse-transfer.handler';
import { ReviewTransferHandler } from './transfers/review-transfer/review-transfer.handler';
import { TransfersGrpc } from './transfers/transfers.grpc';

@Module({})
export class AppModule {
  static forRoot(config: TransactionsConfig): DynamicModule {
    return {
      module: AppModule,
      providers: [
        { provide: TRANSACTIONS_CONFIG, useValue: config },
        PrismaService,
        callerAuthenticatorProvider,
        OwnershipChecks,
        AuditTrail,
        AuditGrpc,
        AuditCheckpoints,
        Outbox,
        OutboxRelayService,
        piiVaultProvider,
        AccountRepository,
        OpenAccountHandler,
        GetAccountHandler,
        ListAccountsHandler,
        AccountLifecycleHandler,
        GetBalanceHandler,
        AccountsGrpc,
        // Ledger: idempotency, locking repository, journal (audit + outbox), screening.
        IdempotencyStore,
        LedgerRepository,
        LedgerJournal,
        TransferPoster,
        TransferRepository,
        ComplianceClient,
        ScreeningGate,
        HoldExpiry,
        HoldRepository,
        AuthorizeHoldHandler,
        CaptureHoldHandler,
        VoidHoldHandler,
        PreflightCoalescer,
        PostingCoalescer,
        CreateTransferHandler,
        CreateTransferBatchHandler,
        GetTransferHandler,
        ListTransfersHandler,
        ReverseTransferHandler,
        ReviewTransferHandler,
        TransfersGrpc,
        RecordPingHandler,
        PingsConsumer,
        GrpcServerHost,
      ],
    };
  }
}
