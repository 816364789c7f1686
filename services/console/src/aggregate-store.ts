/** The JSON shape the gateway sends for one aggregate revision (insights.dto.ts `aggregateView`). */
export interface AggregateView {
  windowKey: string;
  tenantId: string;
  streamId: string;
  metric: string;
  dimensionKey: string;
  dimensionValue: string;
  windowSizeSeconds: number;
  windowSlideSeconds: number;
  windowStart: string | null;
  windowEnd: string | null;
  count: number;
  sum: number;
  min: number;
  max: number;
  p50: number;
  p95: number;
  p99: number;
  distinctCount: number;
  lateEvents: number;
  revision: number;
  final: boolean;
  producer: string;
  computedAt: string | null;
  /** Trace of the processor step that emitted this revision (links to its events); null when untraced. */
  traceId?: string | null;
}

export interface SeriesQuery {
  windowSizeSeconds: number;
  /** Tumbling windows only (slide = size) unless set. */
  windowSlideSeconds?: number;
  /** "" = the totals over every dimension value. */
  dimensionKey?: string;
  dimensionValue?: string;
  /** Which statistic to plot. */
  field?: 'count' | 'sum' | 'p95' | 'distinctCount';
}

export interface Series {
  /** Window starts, epoch seconds, ascending (uPlot's x axis). */
  x: number[];
  /** One line per metric, aligned with x (null where the metric has no window). */
  lines: { metric: string; values: (number | null)[] }[];
}

/**
 * Latest revision of every window the console has seen. Revisions can arrive out of order (a backfill page
 * after a live update), so a window is replaced only by a higher revision: the same rule the insights read
 * model applies, which keeps the chart equal to what a query would return.
 */
export class AggregateStore {
  private readonly byKey = new Map<string, AggregateView>();

  /** True when `a` is new or newer than what was held. */
  apply(a: AggregateView): boolean {
    const held = this.byKey.get(a.windowKey);
    if (held && held.revision >= a.revision) return false;
    this.byKey.set(a.windowKey, a);
    return true;
  }

  get size(): number {
    return this.byKey.size;
  }

  /** Drops windows that started before `cutoffMs`, so a console left open does not grow without bound. */
  prune(cutoffMs: number): void {
    for (const [key, a] of this.byKey) if (startMs(a) < cutoffMs) this.byKey.delete(key);
  }

  select(q: SeriesQuery): AggregateView[] {
    const slide = q.windowSlideSeconds ?? q.windowSizeSeconds;
    const dimKey = q.dimensionKey ?? '';
    return [...this.byKey.values()].filter(
      (a) =>
        a.windowSizeSeconds === q.windowSizeSeconds &&
        a.windowSlideSeconds === slide &&
        a.dimensionKey === dimKey &&
        (q.dimensionValue === undefined || a.dimensionValue === q.dimensionValue) &&
        a.windowStart !== null,
    );
  }

  /** Time series per metric for one window size and dimension. */
  series(q: SeriesQuery): Series {
    const field = q.field ?? 'count';
    const rows = this.select(q);
    const x = [...new Set(rows.map((a) => startMs(a) / 1000))].sort((a, b) => a - b);
    const index = new Map(x.map((t, i) => [t, i]));
    const metrics = [...new Set(rows.map((a) => a.metric))].sort();
    const lines = metrics.map((metric) => ({ metric, values: new Array<number | null>(x.length).fill(null) }));
    const lineOf = new Map(lines.map((l) => [l.metric, l]));
    for (const a of rows) {
      const line = lineOf.get(a.metric);
      const i = index.get(startMs(a) / 1000);
      if (line && i !== undefined) line.values[i] = a[field];
    }
    return { x, lines };
  }

  /** Sum of `count` over the selected windows: every event counted once when the windows are tumbling. */
  total(q: SeriesQuery & { metric?: string }): number {
    return this.select(q)
      .filter((a) => q.metric === undefined || a.metric === q.metric)
      .reduce((n, a) => n + a.count, 0);
  }

  /** Per dimension value, the latest window of `metric` (e.g. purchases per country in the last minute). */
  latestByDimension(metric: string, dimensionKey: string, windowSizeSeconds: number): AggregateView[] {
    const latest = new Map<string, AggregateView>();
    for (const a of this.select({ windowSizeSeconds, dimensionKey })) {
      if (a.metric !== metric) continue;
      const held = latest.get(a.dimensionValue);
      if (!held || startMs(a) > startMs(held)) latest.set(a.dimensionValue, a);
    }
    return [...latest.values()].sort((a, b) => b.sum - a.sum || a.dimensionValue.localeCompare(b.dimensionValue));
  }

  /** Most recently computed revisions first. */
  recent(limit: number): AggregateView[] {
    return [...this.byKey.values()].sort((a, b) => (b.computedAt ?? '').localeCompare(a.computedAt ?? '')).slice(0, limit);
  }
}

function startMs(a: AggregateView): number {
  return a.windowStart === null ? 0 : Date.parse(a.windowStart);
}
