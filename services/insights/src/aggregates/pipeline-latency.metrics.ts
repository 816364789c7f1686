import { metrics, type Histogram, type Meter } from '@opentelemetry/api';
import type { Aggregate } from './aggregate';

export const PIPELINE_E2E_LATENCY_METRIC = 'tessera.pipeline.e2e_latency';
/** Seconds: from sub-second (open-window revisions) to minutes (windows closed by the watermark). */
const BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/**
 * The newest event time an aggregate revision covers: `max_event_time` as the processor sent it (exact).
 * Without it (a producer that predates the field, or window state restored from before it) the newest
 * time it CAN cover: its window end, or when it was computed if earlier (a still-open window's revision),
 * which makes the latency a lower bound.
 */
export function newestCoveredEventTime(a: Pick<Aggregate, 'windowEnd' | 'computedAt' | 'maxEventTime'>): number {
  return a.maxEventTime?.getTime() ?? Math.min(a.windowEnd.getTime(), a.computedAt.getTime());
}

/** `tessera.pipeline.e2e_latency` (s): event time to aggregate visible in insights, by final/early revision. */
export class PipelineLatencyMetrics {
  private readonly histogram: Histogram;

  constructor(meter: Meter = metrics.getMeter('tessera.insights')) {
    this.histogram = meter.createHistogram(PIPELINE_E2E_LATENCY_METRIC, {
      description: 'Newest event time an aggregate covers until the aggregate is visible in insights',
      unit: 's',
      advice: { explicitBucketBoundaries: BUCKETS },
    });
  }

  /** Call when the revision was stored (visible to queries and live subscribers) at `visibleAt`. */
  visible(a: Pick<Aggregate, 'windowEnd' | 'computedAt' | 'maxEventTime' | 'final'>, visibleAt = Date.now()): void {
    const seconds = Math.max(0, (visibleAt - newestCoveredEventTime(a)) / 1000);
    this.histogram.record(seconds, { 'tessera.aggregate.final': a.final });
  }
}
