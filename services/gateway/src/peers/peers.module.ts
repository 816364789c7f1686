import { type DynamicModule, Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { analyticsV1, complianceV1, paymentsV1 } from '@tessera/contracts';
import { createGrpcClient, type GrpcTransport, grpcTransportFromEnv } from '@tessera/grpc';
import { createKafka, EventProducer } from '@tessera/kafka';
import { createLogger } from '@tessera/telemetry';
import type { Admin } from 'kafkajs';
import type { GatewayConfig } from '../config';

export const ACCOUNTS_CLIENT = Symbol('ACCOUNTS_CLIENT');
export const TRANSFERS_CLIENT = Symbol('TRANSFERS_CLIENT');
export const AUDIT_CLIENT = Symbol('AUDIT_CLIENT');
export const COMPLIANCE_CLIENT = Symbol('COMPLIANCE_CLIENT');
export const INGEST_CLIENT = Symbol('INGEST_CLIENT');
export const INSIGHTS_CLIENT = Symbol('INSIGHTS_CLIENT');
export const KAFKA_ADMIN = Symbol('KAFKA_ADMIN');
export const EVENT_PRODUCER = Symbol('EVENT_PRODUCER');
/** The gateway's gRPC transport (mTLS as `gateway`, or the explicit plaintext dev mode), for clients and /health probes. */
export const GRPC_TRANSPORT = Symbol('GRPC_TRANSPORT');

/**
 * Connections to the gateway's peers, opened once at boot and closed on shutdown. Only reads are retried by
 * the channel: a retried mutation is safe on the server thanks to its idempotency key, but the caller is the
 * one who decides to retry (with the same Idempotency-Key), not a hidden channel policy.
 */
@Global()
@Module({})
export class PeersModule implements OnApplicationShutdown {
  constructor(
    @Inject(ACCOUNTS_CLIENT) private readonly accounts: paymentsV1.AccountServiceClient,
    @Inject(TRANSFERS_CLIENT) private readonly transfers: paymentsV1.TransferServiceClient,
    @Inject(AUDIT_CLIENT) private readonly audit: paymentsV1.AuditServiceClient,
    @Inject(COMPLIANCE_CLIENT) private readonly compliance: complianceV1.ComplianceServiceClient,
    @Inject(INGEST_CLIENT) private readonly ingest: analyticsV1.IngestServiceClient,
    @Inject(INSIGHTS_CLIENT) private readonly insights: analyticsV1.InsightsServiceClient,
    @Inject(KAFKA_ADMIN) private readonly admin: Admin,
    @Inject(EVENT_PRODUCER) private readonly producer: EventProducer,
  ) {}

  static forRoot(config: GatewayConfig): DynamicModule {
    const logger = createLogger('kafkajs');
    const kafka = createKafka({ clientId: 'gateway', brokers: config.KAFKA_BROKERS, logger });
    const defaultDeadlineMs = config.GATEWAY_GRPC_DEADLINE_MS;
    return {
      module: PeersModule,
      providers: [
        // Read once at boot: missing certificates stop the gateway here with the fix in the message. A factory, so
        // Nest's preview mode (OpenAPI snapshot, unit tests) resolves the module without touching key files.
        { provide: GRPC_TRANSPORT, useFactory: (): GrpcTransport => grpcTransportFromEnv('gateway') },
        {
          provide: ACCOUNTS_CLIENT,
          inject: [GRPC_TRANSPORT],
          useFactory: (transport: GrpcTransport) =>
            createGrpcClient(paymentsV1.AccountServiceClient, config.TRANSACTIONS_ADDR, {
              transport,
              defaultDeadlineMs,
              retry: 'idempotent',
              idempotentMethods: ['GetAccount', 'ListAccounts', 'GetBalance'],
            }),
        },
        {
          provide: TRANSFERS_CLIENT,
          inject: [GRPC_TRANSPORT],
          useFactory: (transport: GrpcTransport) =>
            createGrpcClient(paymentsV1.TransferServiceClient, config.TRANSACTIONS_ADDR, {
              transport,
              defaultDeadlineMs,
              retry: 'idempotent',
              idempotentMethods: ['GetTransfer', 'ListTransfers'],
            }),
        },
        {
          provide: AUDIT_CLIENT,
          inject: [GRPC_TRANSPORT],
          useFactory: (transport: GrpcTransport) =>
            createGrpcClient(paymentsV1.AuditServiceClient, config.TRANSACTIONS_ADDR, {
              transport,
              defaultDeadlineMs,
              retry: 'idempotent',
              idempotentMethods: ['VerifyAuditChain', 'ListAuditRecords'],
            }),
        },
        {
          provide: COMPLIANCE_CLIENT,
          inject: [GRPC_TRANSPORT],
          useFactory: (transport: GrpcTransport) =>
            createGrpcClient(complianceV1.ComplianceServiceClient, config.COMPLIANCE_ADDR, {
              transport,
              defaultDeadlineMs,
              retry: 'idempotent',
              idempotentMethods: ['ListAlerts'],
            }),
        },
        {
          provide: INGEST_CLIENT,
          // Never retried by the channel: ingest answers UNAVAILABLE on purpose (back-pressure) and the client decides.
          inject: [GRPC_TRANSPORT],
          useFactory: (transport: GrpcTransport) =>
            createGrpcClient(analyticsV1.IngestServiceClient, config.INGEST_ADDR, { transport, defaultDeadlineMs, retry: 'none' }),
        },
        {
          provide: INSIGHTS_CLIENT,
          // Reads only; StreamAggregates passes its own (infinite) deadline per call.
          inject: [GRPC_TRANSPORT],
          useFactory: (transport: GrpcTransport) =>
            createGrpcClient(analyticsV1.InsightsServiceClient, config.INSIGHTS_ADDR, {
              transport,
              defaultDeadlineMs,
              retry: 'idempotent',
              idempotentMethods: ['GetAggregates', 'GetTopN'],
            }),
        },
        {
          provide: KAFKA_ADMIN,
          useFactory: async () => {
            const admin = kafka.admin();
            await admin.connect();
            return admin;
          },
        },
        {
          provide: EVENT_PRODUCER,
          useFactory: async () => {
            const producer = new EventProducer({ kafka, source: 'gateway', logger });
            await producer.connect();
            return producer;
          },
        },
      ],
      exports: [
        GRPC_TRANSPORT,
        ACCOUNTS_CLIENT,
        TRANSFERS_CLIENT,
        AUDIT_CLIENT,
        COMPLIANCE_CLIENT,
        INGEST_CLIENT,
        INSIGHTS_CLIENT,
        KAFKA_ADMIN,
        EVENT_PRODUCER,
      ],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    for (const client of [this.accounts, this.transfers, this.audit, this.compliance, this.ingest, this.insights]) client.close();
    await Promise.allSettled([this.producer.disconnect(), this.admin.disconnect()]);
  }
}
