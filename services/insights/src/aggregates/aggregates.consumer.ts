import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { analyticsV1, eventTypeName } from '@tessera/contracts';
import { createKafka, EventConsumer, PoisonMessageError } from '@tessera/kafka';
import { createLogger } from '@tessera/telemetry';
import { type InsightsConfig, INSIGHTS_CONFIG } from '../config';
import { InvalidAggregateError } from './aggregate';
import { aggregateFromProto } from './aggregate.codec';
import { ApplyAggregateHandler } from './apply-aggregate/apply-aggregate.handler';

/**
 * Consumes analytics.aggregates.v1 as group insights.read-models, a fetched batch at a time. kafkajs reads READ_COMMITTED by default, so
 * aggregates of an aborted processor transaction are never seen. Delivery is at-least-once; the revision
 * check in the upsert makes redelivery harmless. Invalid aggregates go to `<topic>.dlq` with the reason.
 */
@Injectable()
export class AggregatesConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = createLogger('AggregatesConsumer');
  private consumer?: EventConsumer<analyticsV1.WindowAggregate>;

  /** Resolves once the consumer group has partitions (tests wait on it before publishing). */
  joined: Promise<void> = Promise.resolve();

  constructor(
    @Inject(INSIGHTS_CONFIG) private readonly config: InsightsConfig,
    private readonly apply: ApplyAggregateHandler,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.INSIGHTS_CONSUMER_ENABLED) return;
    const logger = createLogger('kafkajs');
    this.consumer = new EventConsumer<analyticsV1.WindowAggregate>({
      kafka: createKafka({ clientId: 'insights', brokers: this.config.KAFKA_BROKERS, logger }),
      groupId: this.config.INSIGHTS_CONSUMER_GROUP,
      topics: [this.config.INSIGHTS_AGGREGATES_TOPIC],
      types: [eventTypeName.WindowAggregate],
      codec: analyticsV1.WindowAggregate,
      logger,
      // Each partition's batches in order; batches of different partitions stored at once (disjoint windows).
      partitionsConsumedConcurrently: this.config.INSIGHTS_CONSUMER_PARTITIONS_AT_ONCE,
      // A fetched batch is stored in one statement (a processor transaction emits dozens of windows at once); an invalid
      // aggregate makes the consumer re-handle that batch one by one, so only it goes to the DLQ.
      batchHandler: async (items) => {
        try {
          const outcome = await this.apply.executeMany(items.map((it) => aggregateFromProto(it.decoded)));
          this.logger.debug({ messages: items.length, ...outcome }, 'aggregates handled');
        } catch (error) {
          // Retrying cannot fix a malformed aggregate: straight to the DLQ with the reason.
          if (error instanceof InvalidAggregateError) throw new PoisonMessageError(`invalid aggregate: ${error.message}`, { cause: error });
          throw error;
        }
      },
    });
    this.joined = this.consumer.waitForAssignment().catch(() => undefined);
    // Queries (gRPC) must not wait for the group join, which after a kill -9 waits out the dead member's session
    // (~27 s; compliance had the same, tests/chaos/process-faults.chaos-spec.ts). The read model catches up once joined.
    this.consumer.startInBackground();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
  }
}
