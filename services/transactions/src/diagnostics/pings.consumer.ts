import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import { commonV1, eventTypeName } from '@tessera/contracts';
import { createKafka, EventConsumer, PoisonMessageError } from '@tessera/kafka';
import { createLogger } from '@tessera/telemetry';
import { type TransactionsConfig, TRANSACTIONS_CONFIG } from '../config';
import { RecordPingHandler } from './record-ping/record-ping.handler';

/** Consumes platform.pings.v1 (TRANSACTIONS_PINGS_TOPIC; the foundation slice's event path) into ping_receipts. */
@Injectable()
export class PingsConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = createLogger('PingsConsumer');
  private consumer?: EventConsumer<commonV1.Ping>;

  constructor(
    @Inject(TRANSACTIONS_CONFIG) private readonly config: TransactionsConfig,
    private readonly recordPing: RecordPingHandler,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const logger = createLogger('kafkajs');
    this.consumer = new EventConsumer<commonV1.Ping>({
      kafka: createKafka({ clientId: 'transactions', brokers: this.config.KAFKA_BROKERS, logger }),
      groupId: this.config.TRANSACTIONS_PINGS_GROUP,
      topics: [this.config.TRANSACTIONS_PINGS_TOPIC],
      codec: commonV1.Ping,
      types: [eventTypeName.Ping],
      logger,
      handler: async (envelope, ping) => {
        // The gateway makes the envelope id the ping id and stamps sent_at: a Ping without them is another contract's
        // payload under this type (protobuf decodes it leniently), dead-lettered with the reason (issue #14 scenario 5).
        if (ping.id !== envelope.id || !ping.sentAt)
          throw new PoisonMessageError(
            `not a ping of this platform: ${ping.id !== envelope.id ? 'its id is not the envelope id' : 'sent_at is missing'}`,
          );
        const { recorded } = await this.recordPing.execute({
          eventId: envelope.id,
          message: ping.message,
          sentAt: ping.sentAt,
          traceId: trace.getActiveSpan()?.spanContext().traceId,
        });
        this.logger.info({ eventId: envelope.id, recorded }, 'ping received');
      },
    });
    // Readiness does not wait for the group join (see EventConsumer.startInBackground).
    this.consumer.startInBackground();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
  }
}
