import { metrics, type Counter, type Meter } from '@opentelemetry/api';
import { DeadLetterCounter } from '@tessera/kafka';
import type { BatchOutcome } from '../processing/partition-state';

export const PIPELINE_EVENTS_METRIC = 'tessera.pipeline.events';

/**
 * The processor's share of the pipeline metrics, recorded only after a batch's Kafka transaction
 * committed (an aborted batch is re-read and must not count twice): `tessera.pipeline.events` with
 * stage `processor` and outcome processed/duplicate/late/poison, and `tessera.dlq.messages` per reason.
 */
export class StreamProcessorMetrics {
  private readonly events: Counter;
  private readonly deadLetters: DeadLetterCounter;

  constructor(
    private readonly groupId: string,
    meter: Meter = metrics.getMeter('tessera.stream-processor'),
  ) {
    this.events = meter.createCounter(PIPELINE_EVENTS_METRIC, {
      description: 'Analytics events by pipeline stage and outcome',
      unit: '{event}',
    });
    this.deadLetters = new DeadLetterCounter(meter);
  }

  /** A committed batch read from `sourceTopic`. */
  committed(sourceTopic: string, outcome: Pick<BatchOutcome, 'stats' | 'deadLetters'>): void {
    const { events, duplicates, late, poison } = outcome.stats;
    for (const [result, n] of [
      ['processed', events],
      ['duplicate', duplicates],
      ['late', late],
      ['poison', poison],
    ] as const) {
      if (n > 0) this.events.add(n, { 'tessera.pipeline.stage': 'processor', 'tessera.pipeline.outcome': result });
    }
    const byCode = new Map<string, number>();
    for (const d of outcome.deadLetters) byCode.set(d.code, (byCode.get(d.code) ?? 0) + 1);
    for (const [code, n] of byCode) this.deadLetters.record(sourceTopic, this.groupId, code, n);
  }
}
