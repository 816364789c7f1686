/** What one aggregate row is about; `dimKey`/`dimValue` are "" for the total. */
export interface WindowId {
  tenantId: string;
  streamId: string;
  metric: string;
  dimKey: string;
  dimValue: string;
  sizeMs: number;
  slideMs: number;
  startMs: number;
}

/** `${tenant}|${stream}|${metric}|${dimKey}=${dimValue}|${size}|${slide}|${startEpochMs}` (sizes in seconds). */
export function windowKeyOf(id: WindowId): string {
  return windowSeriesKey(id.tenantId, id.streamId, id.metric, id.dimKey, id.dimValue) + windowSpanKey(id.sizeMs, id.slideMs, id.startMs);
}

/**
 * The two halves of a window key: the series (tenant, stream, metric, dimension) and the span (size, slide, start).
 * The aggregation builds each half once per event and joins them per window (an event lands in ~24 windows).
 */
export function windowSeriesKey(tenantId: string, streamId: string, metric: string, dimKey: string, dimValue: string): string {
  return `${tenantId}|${streamId}|${metric}|${dimKey}=${dimValue}`;
}

export function windowSpanKey(sizeMs: number, slideMs: number, startMs: number): string {
  return `|${sizeMs / 1000}|${slideMs / 1000}|${startMs}`;
}
