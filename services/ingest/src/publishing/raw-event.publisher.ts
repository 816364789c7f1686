import { Inject, Injectable } from '@nestjs/common';
import { analyticsV1, eventTypeName } from '@tessera/contracts';
import type { EventInput } from '@tessera/kafka';
import { createLogger } from '@tessera/telemetry';
import { type IngestConfig, INGEST_CONFIG } from '../config';
import { kafkaUnavailable, overloaded } from '../events/ingest.errors';
import { KafkaLink } from './kafka.link';

/** Partition key of a raw event: one tenant's stream stays ordered on one partition. */
export function rawEventKey(event: analyticsV1.AnalyticsEvent): string {
  return `${event.tenantId}/${event.streamId}`;
}

/** The envelope input for a raw event: envelope id = event_id so consumers dedupe on it. */
export function rawEventInput(event: analyticsV1.AnalyticsEvent): EventInput<analyticsV1.AnalyticsEvent> {
  const key = rawEventKey(event);
  return {
    id: event.eventId,
    type: eventTypeName.AnalyticsEvent,
    subject: key,
    key,
    time: event.occurredAt,
    message: event,
    codec: analyticsV1.AnalyticsEvent,
    headers: { 'tenant-id': event.tenantId },
  };
}

/**
 * Publishes validated events to the raw topic and resolves only after the broker acknowledged them (acks=all,
 * idempotent producer). Back-pressure instead of buffering: at most INGEST_MAX_PENDING_PUBLISHES batches may
 * be admitted at once (a slot is freed only when Kafka answers, not when the caller gives up, so a stuck
 * broker cannot grow the producer's queue), and a caller waits at most INGEST_PUBLISH_TIMEOUT_MS. Every refusal
 * is UNAVAILABLE with a retry-after hint, and means "nothing acknowledged": an event the broker wrote after
 * the caller timed out is a duplicate on retry, which the processor removes by event id.
 */
@Injectable()
export class RawEventPublisher {
  private readonly logger = createLogger('RawEventPublisher');
  private pending = 0;

  constructor(
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
    private readonly link: KafkaLink,
  ) {}

  /** Batches admitted and not yet answered by Kafka (for tests and metrics). */
  get pendingBatches(): number {
    return this.pending;
  }

  async publish(events: analyticsV1.AnalyticsEvent[]): Promise<void> {
    if (events.length === 0) return;
    // Seconds to suggest: about one probe interval when Kafka is down, one second when merely busy.
    const downRetry = Math.max(1, Math.ceil(this.config.INGEST_KAFKA_PROBE_MS / 1000));
    if (!this.link.isUp) throw kafkaUnavailable('Kafka is unreachable', downRetry);
    if (this.pending >= this.config.INGEST_MAX_PENDING_PUBLISHES) throw overloaded(1);

    this.pending += 1;
    const send = this.link.producer.publishBatch(this.config.INGEST_RAW_TOPIC, events.map(rawEventInput));
    const settled = send.then(
      () => undefined,
      (error: unknown) => error,
    );
    void settled.finally(() => (this.pending -= 1));

    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.config.INGEST_PUBLISH_TIMEOUT_MS);
    });
    const outcome = await Promise.race([settled, timedOut]).finally(() => clearTimeout(timer));
    if (outcome === 'timeout') {
      void settled.then((late) =>
        this.logger.warn(
          { events: events.length, acked: late === undefined },
          'publish finished after the caller was answered UNAVAILABLE',
        ),
      );
      throw kafkaUnavailable('Kafka did not acknowledge in time', downRetry);
    }
    if (outcome !== undefined) {
      this.logger.warn({ err: outcome, events: events.length }, 'publish failed');
      this.link.reportFailure();
      void this.link.probe();
      throw kafkaUnavailable('Kafka refused or could not be reached', downRetry);
    }
  }
}
