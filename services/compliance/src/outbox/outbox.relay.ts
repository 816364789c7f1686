import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { createKafka, EventProducer } from '@tessera/kafka';
import { OutboxRelay as SharedOutboxRelay } from '@tessera/outbox';
import { createLogger } from '@tessera/telemetry';
import { type ComplianceConfig, COMPLIANCE_CONFIG } from '../config';
import { PrismaService } from '../platform/prisma.provider';
import { OUTBOX_SOURCE } from './outbox.source';
import { reencodeLegacyRows } from './legacy-rows';

/**
 * The compliance outbox relay: @tessera/outbox's (a leader per database, batches in seq order, backoff, retention,
 * `tessera.outbox.*` metrics), started after bootstrap and drained on shutdown. At-least-once: a crash between the
 * broker's ack and the UPDATE re-publishes a row with the SAME envelope id, which consumers dedupe.
 */
@Injectable()
export class OutboxRelay extends SharedOutboxRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(COMPLIANCE_CONFIG) config: ComplianceConfig,
    private readonly prisma: PrismaService,
  ) {
    const logger = createLogger('OutboxRelay');
    const kafka = createKafka({
      clientId: 'compliance-outbox',
      brokers: config.KAFKA_BROKERS,
      logger,
      // Fail a send within seconds when the broker is away; the relay's own backoff takes over from there.
      config: { connectionTimeout: 3000, requestTimeout: 10_000, retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 } },
    });
    super({
      service: 'compliance',
      databaseUrl: config.COMPLIANCE_DATABASE_URL,
      publisher: new EventProducer({ kafka, source: OUTBOX_SOURCE, logger }),
      settings: {
        batchSize: 100,
        pollMs: config.COMPLIANCE_OUTBOX_POLL_MS,
        leaderPollMs: 2000,
        maxBackoffMs: 10_000,
        retentionMs: config.COMPLIANCE_OUTBOX_RETENTION_MS,
      },
      logger,
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    // Rows an older compliance wrote (bare payload) become envelopes before the relay publishes anything.
    await reencodeLegacyRows(this.prisma.client);
    this.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }
}
