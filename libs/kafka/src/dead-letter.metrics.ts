import { metrics, type Counter, type Meter } from '@opentelemetry/api';

export const DLQ_MESSAGES_METRIC = 'tessera.dlq.messages';

/**
 * `tessera.dlq.messages`: records written to a dead-letter topic, by SOURCE topic, consumer group and
 * reason code (`error.type`). Codes are the stable AppError/DLQ codes, never the free-text reason, so
 * the series stay few; the text is in the DLQ record's headers.
 */
export class DeadLetterCounter {
  private readonly counter: Counter;

  /** The meter defaults to the global provider's `@tessera/kafka` meter, resolved now (after startTelemetry). */
  constructor(meter: Meter = metrics.getMeter('@tessera/kafka')) {
    this.counter = meter.createCounter(DLQ_MESSAGES_METRIC, { description: 'Messages written to a dead-letter topic', unit: '{message}' });
  }

  /** Call once the DLQ write was acknowledged, `count` records of one source topic and reason. */
  record(sourceTopic: string, groupId: string, reasonCode: string, count = 1): void {
    if (count <= 0) return;
    this.counter.add(count, {
      'messaging.destination.name': sourceTopic,
      'messaging.consumer.group.name': groupId,
      'error.type': reasonCode,
    });
  }
}
