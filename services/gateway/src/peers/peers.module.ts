import { type DynamicModule, Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { paymentsV1 } from '@tessera/contracts';
import { createGrpcClient } from '@tessera/grpc';
import { createKafka, EventProducer } from '@tessera/kafka';
import { createLogger } from '@tessera/telemetry';
import type { Admin } from 'kafkajs';
import type { GatewayConfig } from '../config';

export const ACCOUNTS_CLIENT = Symbol('ACCOUNTS_CLIENT');
export const KAFKA_ADMIN = Symbol('KAFKA_ADMIN');
export const EVENT_PRODUCER = Symbol('EVENT_PRODUCER');

/** Connections to the gateway's peers, opened once at boot and closed on shutdown. */
@Global()
@Module({})
export class PeersModule implements OnApplicationShutdown {
  constructor(
    @Inject(ACCOUNTS_CLIENT) private readonly accounts: paymentsV1.AccountServiceClient,
    @Inject(KAFKA_ADMIN) private readonly admin: Admin,
    @Inject(EVENT_PRODUCER) private readonly producer: EventProducer,
  ) {}

  static forRoot(config: GatewayConfig): DynamicModule {
    const logger = createLogger('kafkajs');
    const kafka = createKafka({ clientId: 'gateway', brokers: config.KAFKA_BROKERS, logger });
    return {
      module: PeersModule,
      providers: [
        {
          provide: ACCOUNTS_CLIENT,
          useFactory: () =>
            createGrpcClient(paymentsV1.AccountServiceClient, config.TRANSACTIONS_ADDR, {
              defaultDeadlineMs: config.GATEWAY_GRPC_DEADLINE_MS,
              retry: 'idempotent',
              idempotentMethods: ['GetAccount', 'ListAccounts', 'GetBalance'],
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
      exports: [ACCOUNTS_CLIENT, KAFKA_ADMIN, EVENT_PRODUCER],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    this.accounts.close();
    await Promise.allSettled([this.producer.disconnect(), this.admin.disconnect()]);
  }
}
