import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { eventTypeName, paymentsV1 } from '@tessera/contracts';
import { createKafka, EventConsumer, type MessageCodec, PoisonMessageError } from '@tessera/kafka';
import { createLogger } from '@tessera/telemetry';
import { type ComplianceConfig, COMPLIANCE_CONFIG } from '../config';
import type { ObservedTransfer } from './detectors';
import { ObserveTransferHandler } from './observe-transfer/observe-transfer.handler';

/** The topic carries several payload types; decoding is per type below, so the consumer passes bytes through. */
const rawBytes: MessageCodec<Uint8Array> = { encode: (b) => ({ finish: () => b }), decode: (b) => b };

/**
 * Movements the monitor watches: created (POSTED or held PENDING) transfers and captured holds; other types on the topic
 * are not the monitor's business (undefined). A TransferCreated or HoldCaptured that does not decode, or carries no
 * transfer id or amount, is poison (dead-lettered with the reason): before, an event of another contract labelled
 * TransferCreated decoded leniently to an empty message and was skipped without a trace (chaos scenario 5, issue #14).
 */
export function transferFromEvent(type: string, data: Uint8Array): { transfer: ObservedTransfer; status: string } | undefined {
  const codec =
    type === eventTypeName.TransferCreated
      ? paymentsV1.TransferCreated
      : type === eventTypeName.HoldCaptured
        ? paymentsV1.HoldCaptured
        : undefined;
  if (!codec) return undefined;
  let t: paymentsV1.Transfer | undefined;
  try {
    t = codec.decode(data).transfer;
  } catch (error) {
    throw new PoisonMessageError(`payload is not a valid ${type}: ${(error as Error).message}`, { cause: error });
  }
  if (!t?.amount || !t.id) throw new PoisonMessageError(`${type} without a transfer id or amount (another contract's payload?)`);
  const status = paymentsV1.transferStatusToJSON(t.status).replace('TRANSFER_STATUS_', '');
  if (status !== 'POSTED' && status !== 'PENDING') return undefined;
  return {
    status,
    transfer: {
      transferId: t.id,
      sourceAccountId: t.sourceAccountId,
      destinationAccountId: t.destinationAccountId,
      amountMinor: t.amount.amountMinor,
      currency: t.amount.currency,
      occurredAt: t.postedAt ?? t.createdAt ?? new Date(),
    },
  };
}

/** Consumes payments.transfer.events.v1 as group compliance.aml-monitor, a fetched batch at a time (at-least-once, DLQ beside the topic). */
@Injectable()
export class TransferEventsConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = createLogger('TransferEventsConsumer');
  private consumer?: EventConsumer<Uint8Array>;

  constructor(
    @Inject(COMPLIANCE_CONFIG) private readonly config: ComplianceConfig,
    private readonly observe: ObserveTransferHandler,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.COMPLIANCE_MONITOR_ENABLED) return;
    const logger = createLogger('kafkajs');
    this.consumer = new EventConsumer<Uint8Array>({
      kafka: createKafka({ clientId: 'compliance', brokers: this.config.KAFKA_BROKERS, logger }),
      groupId: this.config.COMPLIANCE_MONITOR_GROUP,
      topics: [this.config.COMPLIANCE_TRANSFER_EVENTS_TOPIC],
      codec: rawBytes,
      logger,
      // A fetched batch is observed in one transaction per 100 events (ObserveTransferHandler.executeMany), in order;
      // each event under its own CONSUMER span in the transfer's trace.
      messageSpans: true,
      // Monitoring is after the fact: waiting up to 500 ms for 64 KB of events turns a trickle of transfers (one or
      // two per fetch, each batch a transaction of its own) into batches of dozens (issue #10).
      fetch: { minBytes: 64 * 1024, maxWaitMs: 500 },
      batchHandler: async (items) => {
        const events = items.map(({ envelope, decoded, trace }) => {
          const seen = transferFromEvent(envelope.type, decoded);
          return { event: { eventId: envelope.id, type: envelope.type }, transfer: seen?.transfer, status: seen?.status ?? '', trace };
        });
        const result = await this.observe.executeMany(events);
        this.logger.debug({ messages: items.length, ...result }, 'transfer events observed');
      },
    });
    this.joined = this.consumer.waitForAssignment().catch(() => undefined);
    // Screening (gRPC) must not wait for the group join: after a kill -9 the broker keeps the dead member until its
    // session times out, and a blocking start kept compliance from serving, so every transfer failed closed, for ~27 s
    // (tests/chaos/process-faults.chaos-spec.ts). Monitoring is after the fact; it catches up once joined.
    this.consumer.startInBackground();
  }

  /** Resolves once the consumer group has partitions (tests wait on it before publishing). */
  joined: Promise<void> = Promise.resolve();

  async onApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
  }
}
