/** The read model's view of one window aggregate revision; no framework types. */
export interface Aggregate {
  windowKey: string;
  tenantId: string;
  streamId: string;
  metric: string;
  dimensionKey: string;
  dimensionValue: string;
  windowSizeSeconds: number;
  windowSlideSeconds: number;
  windowStart: Date;
  windowEnd: Date;
  count: bigint;
  sum: number;
  min: number;
  max: number;
  p50: number;
  p95: number;
  p99: number;
  distinctCount: bigint;
  lateEvents: bigint;
  revision: bigint;
  final: boolean;
  producer: string;
  computedAt: Date;
  /** Trace of the processor step that emitted this revision ("" when untraced), not of any one event. */
  traceId: string;
  /** Newest event time the revision aggregates; undefined when the producer did not send it (older processors). */
  maxEventTime?: Date;
}

/** One ranked dimension value of GetTopN. */
export interface TopNEntry {
  dimensionValue: string;
  count: bigint;
  sum: number;
}

/** Why an incoming aggregate cannot be stored; the consumer dead-letters it instead of retrying. */
export class InvalidAggregateError extends Error {
  override readonly name = 'InvalidAggregateError';
}

const MAX_WINDOW_SECONDS = 7 * 24 * 3600;

/**
 * Checks what the read model relies on. The key must begin with the aggregate's own tenant, stream and metric:
 * rows are found by those columns but replaced by key, so a key naming another tenant could overwrite that
 * tenant's window.
 */
export function validateAggregate(a: Aggregate): Aggregate {
  const problems: string[] = [];
  if (!a.tenantId) problems.push('tenant_id is empty');
  if (!a.streamId) problems.push('stream_id is empty');
  if (!a.metric) problems.push('metric is empty');
  if (!a.windowKey.startsWith(`${a.tenantId}|${a.streamId}|${a.metric}|`))
    problems.push('window_key does not start with tenant|stream|metric|');
  if (a.dimensionKey === '' && a.dimensionValue !== '') problems.push('dimension_value without dimension_key');
  if (!Number.isInteger(a.windowSizeSeconds) || a.windowSizeSeconds <= 0 || a.windowSizeSeconds > MAX_WINDOW_SECONDS)
    problems.push('window_size_seconds out of range');
  if (!Number.isInteger(a.windowSlideSeconds) || a.windowSlideSeconds <= 0 || a.windowSlideSeconds > a.windowSizeSeconds)
    problems.push('window_slide_seconds out of range');
  if (Number.isNaN(a.windowStart.getTime()) || Number.isNaN(a.windowEnd.getTime())) problems.push('window bounds missing');
  else if (a.windowEnd.getTime() - a.windowStart.getTime() !== a.windowSizeSeconds * 1000)
    problems.push('window_end - window_start differs from window_size_seconds');
  if (a.maxEventTime && !(a.maxEventTime >= a.windowStart && a.maxEventTime < a.windowEnd))
    problems.push('max_event_time outside the window');
  if (a.revision < 0n) problems.push('revision is negative');
  if (a.count < 0n || a.distinctCount < 0n || a.lateEvents < 0n) problems.push('negative counter');
  for (const [name, v] of [
    ['sum', a.sum],
    ['min', a.min],
    ['max', a.max],
    ['p50', a.p50],
    ['p95', a.p95],
    ['p99', a.p99],
  ] as const) {
    if (!Number.isFinite(v)) problems.push(`${name} is not finite`);
  }
  if (problems.length > 0) throw new InvalidAggregateError(problems.join('; '));
  return a;
}

/** Tumbling windows (slide = size) tile time without overlap, so they can be summed; hopping ones cannot. */
export function isTumbling(a: Pick<Aggregate, 'windowSizeSeconds' | 'windowSlideSeconds'>): boolean {
  return a.windowSizeSeconds === a.windowSlideSeconds;
}
