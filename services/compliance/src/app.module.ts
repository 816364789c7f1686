import { type DynamicModule, Module } from '@nestjs/common';
import { AlertRepository } from './alerts/alert.repository';
import { AssignAlertHandler } from './alerts/assign-alert/assign-alert.handler';
import { ListAlertsHandler } from './alerts/list-alerts/list-alerts.handler';
import { ResolveAlertHandler } from './alerts/resolve-alert/resolve-alert.handler';
import { callerAuthenticatorProvider } from './auth/auth.provider';
import { ComplianceGrpc } from './compliance.grpc';
import { type ComplianceConfig, COMPLIANCE_CONFIG } from './config';
import { MonitoringRepository } from './monitoring/monitoring.repository';
import { ObserveTransferHandler } from './monitoring/observe-transfer/observe-transfer.handler';
import { TransferEventsConsumer } from './monitoring/transfer-events.consumer';
import { AlertOutbox } from './alerts/alert-outbox';
import { OutboxRelay } from './outbox/outbox.relay';
import { GrpcServerHost } from './platform/grpc-server.host';
import { PrismaService } from './platform/prisma.provider';
import { RulesProvider } from './platform/rules.provider';
import { TransactionsClient } from './platform/transactions.client';
import { ScreenHandler } from './screening/screen/screen.handler';
import { ScreeningRepository } from './screening/screening.repository';

@Module({})
export class AppModule {
  static forRoot(config: ComplianceConfig): DynamicModule {
    return {
      module: AppModule,
      providers: [
        { provide: COMPLIANCE_CONFIG, useValue: config },
        PrismaService,
        callerAuthenticatorProvider,
        RulesProvider,
        TransactionsClient,
        AlertOutbox,
        AlertRepository,
        ScreeningRepository,
        ScreenHandler,
        ListAlertsHandler,
        AssignAlertHandler,
        ResolveAlertHandler,
        MonitoringRepository,
        ObserveTransferHandler,
        TransferEventsConsumer,
        OutboxRelay,
        ComplianceGrpc,
        GrpcServerHost,
      ],
    };
  }
}
