import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { createKafka, EventProducer } from '@tessera/kafka';
import { OutboxRelay } from '@tessera/outbox';
import { createLogger } from '@tessera/telemetry';
import { type TransactionsConfig, TRANSACTIONS_CONFIG } from '../config';
import { loadOutboxRelayConfig, relaySettings } from './outbox-relay.config';

/** Nest lifecycle around the @tessera/outbox relay: started after bootstrap, drained on shutdown. */
@Injectable()
export class OutboxRelayService implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly relay?: OutboxRelay;

  constructor(@Inject(TRANSACTIONS_CONFIG) config: TransactionsConfig) {
    const relayConfig = loadOutboxRelayConfig();
    if (!relayConfig.TRANSACTIONS_OUTBOX_RELAY_ENABLED) return;
    const logger = createLogger('OutboxRelay');
    const kafka = createKafka({
      clientId: 'transactions-outbox-relay',
      brokers: config.KAFKA_BROKERS,
      logger,
      // Fail a send within seconds when the broker is away; the relay's own backoff takes over from there.
      config: { connectionTimeout: 3000, requestTimeout: 10_000, retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 } },
    });
    this.relay = new OutboxRelay({
      databaseUrl: config.TRANSACTIONS_DATABASE_URL,
      publisher: new EventProducer({ kafka, source: 'transactions', logger }),
      service: 'transactions',
      settings: relaySettings(relayConfig),
      logger,
    });
  }

  onApplicationBootstrap(): void {
    this.relay?.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.relay?.stop();
  }
}
