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
  return `${windowSeriesKey(id.tenantId, id.streamId, id.metric, id.dimKey, id.dimValue)}|${id.sizeMs / 1000}|${id.slideMs / 1000}|${id.startMs}`;
}

/** The series part of a window key (tenant, stream, metric, dimension): what the aggregation indexes windows by. */
export function windowSeriesKey(tenantId: string, streamId: string, metric: string, dimKey: string, dimValue: string): string {
  return `${tenantId}|${streamId}|${metric}|${dimKey}=${dimValue}`;
}
