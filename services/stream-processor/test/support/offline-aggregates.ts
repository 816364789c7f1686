import type { AggregationOptions } from '../../src/processing/partition-state';
import type { NormalizedEvent } from '../../src/processing/processing.types';
import { DDSketch } from '../../src/sketches/ddsketch';
import { HyperLogLog } from '../../src/sketches/hyperloglog';
import { windowKeyOf } from '../../src/windowing/window-key';
import { windowStartsFor } from '../../src/windowing/window-spec';

export interface OfflineAggregate {
  count: number;
  sum: number;
  min: number;
  max: number;
  p50: number;
  p95: number;
  p99: number;
  distinct: number;
  /** Newest event time aggregated into the window (WindowAggregate.max_event_time). */
  maxEventTimeMs: number;
}

/**
 * The reference: aggregates computed in one pass over the whole input, first occurrence of each
 * event id wins, no watermark (valid when the input contains no too-late events).
 */
export function offlineAggregates(events: NormalizedEvent[], o: AggregationOptions): Map<string, OfflineAggregate> {
  const acc = new Map<
    string,
    { count: number; sum: number; min: number; max: number; maxEventTimeMs: number; sketch: DDSketch; hll: HyperLogLog }
  >();
  const seen = new Set<string>();
  for (const ev of events) {
    const id = `${ev.tenantId}/${ev.streamId}/${ev.eventId}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const dims: Array<[string, string]> = [
      ['', ''],
      ...(ev.dimensions ?? o.dimensions).filter((d) => ev.attributes[d]).map((d): [string, string] => [d, ev.attributes[d] as string]),
    ];
    for (const spec of o.windows) {
      for (const startMs of windowStartsFor(spec, ev.eventTimeMs)) {
        for (const m of ev.measurements) {
          for (const [dimKey, dimValue] of dims) {
            const key = windowKeyOf({
              tenantId: ev.tenantId,
              streamId: ev.streamId,
              metric: m.metric,
              dimKey,
              dimValue,
              sizeMs: spec.sizeMs,
              slideMs: spec.slideMs,
              startMs,
            });
            let a = acc.get(key);
            if (!a)
              acc.set(
                key,
                (a = {
                  count: 0,
                  sum: 0,
                  min: Infinity,
                  max: -Infinity,
                  maxEventTimeMs: -Infinity,
                  sketch: new DDSketch(o.sketchAlpha),
                  hll: new HyperLogLog(o.hllPrecision),
                }),
              );
            a.count++;
            a.sum += m.value;
            a.min = Math.min(a.min, m.value);
            a.max = Math.max(a.max, m.value);
            a.maxEventTimeMs = Math.max(a.maxEventTimeMs, ev.eventTimeMs);
            a.sketch.add(m.value);
            const d = ev.attributes[o.distinctAttribute];
            if (d) a.hll.add(d);
          }
        }
      }
    }
  }
  const out = new Map<string, OfflineAggregate>();
  for (const [k, a] of acc) {
    out.set(k, {
      count: a.count,
      sum: a.sum,
      min: a.min,
      max: a.max,
      p50: a.sketch.quantile(0.5),
      p95: a.sketch.quantile(0.95),
      p99: a.sketch.quantile(0.99),
      distinct: a.hll.estimate(),
      maxEventTimeMs: a.maxEventTimeMs,
    });
  }
  return out;
}
