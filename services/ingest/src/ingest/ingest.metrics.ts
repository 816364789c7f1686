import { metrics, type Counter, type Meter } from '@opentelemetry/api';
import type { Rejection } from '../events/event-validator';

export const PIPELINE_EVENTS_METRIC = 'tessera.pipeline.events';

/**
 * `tessera.pipeline.events` for the ingest stage: `accepted` once Kafka acknowledged the batch,
 * `rejected` per validation code (`error.type`). No tenant label: tenants are ids, the series would grow with them.
 */
export class IngestMetrics {
  private readonly events: Counter;

  constructor(meter: Meter = metrics.getMeter('tessera.ingest')) {
    this.events = meter.createCounter(PIPELINE_EVENTS_METRIC, {
      description: 'Analytics events by pipeline stage and outcome',
      unit: '{event}',
    });
  }

  record(accepted: number, rejections: readonly Rejection[]): void {
    if (accepted > 0) this.events.add(accepted, { 'tessera.pipeline.stage': 'ingest', 'tessera.pipeline.outcome': 'accepted' });
    const byCode = new Map<string, number>();
    for (const r of rejections) byCode.set(r.code, (byCode.get(r.code) ?? 0) + 1);
    for (const [code, n] of byCode)
      this.events.add(n, { 'tessera.pipeline.stage': 'ingest', 'tessera.pipeline.outcome': 'rejected', 'error.type': code });
  }
}
