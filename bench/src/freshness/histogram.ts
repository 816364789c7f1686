/**
 * A Prometheus text-format histogram scraped from a service's /metrics, and the percentiles of the delta
 * between two scrapes (what was recorded during one phase).
 */

/** Cumulative bucket counts by upper bound (+Inf as Infinity), with the series' count and sum. */
export interface HistogramSnapshot {
  buckets: Map<number, number>;
  count: number;
  sum: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)/;

function labelsOf(text: string | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const m of (text ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[m[1] as string] = m[2] as string;
  return labels;
}

/**
 * Sums every series of histogram `name` (e.g. tessera_pipeline_e2e_latency) whose labels include `match`
 * (e.g. { tessera_aggregate_final: 'false' }); other labels (service, scope) are summed over.
 */
export function parseHistogram(text: string, name: string, match: Record<string, string> = {}): HistogramSnapshot {
  const snap: HistogramSnapshot = { buckets: new Map(), count: 0, sum: 0 };
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const [, metric, rawLabels, rawValue] = m;
    if (metric !== `${name}_bucket` && metric !== `${name}_count` && metric !== `${name}_sum`) continue;
    const labels = labelsOf(rawLabels);
    if (!Object.entries(match).every(([k, v]) => labels[k] === v)) continue;
    const value = Number(rawValue);
    if (metric === `${name}_count`) snap.count += value;
    else if (metric === `${name}_sum`) snap.sum += value;
    else {
      const le = labels['le'] === '+Inf' ? Infinity : Number(labels['le']);
      snap.buckets.set(le, (snap.buckets.get(le) ?? 0) + value);
    }
  }
  return snap;
}

export function histogramDelta(before: HistogramSnapshot, after: HistogramSnapshot): HistogramSnapshot {
  const buckets = new Map<number, number>();
  for (const [le, n] of after.buckets) buckets.set(le, n - (before.buckets.get(le) ?? 0));
  return { buckets, count: after.count - before.count, sum: after.sum - before.sum };
}

/**
 * The q-quantile (0..1) of a cumulative histogram, interpolated linearly within the bucket it falls in (as
 * Prometheus' histogram_quantile does; the first bucket starts at 0). A quantile in the +Inf bucket is
 * reported as the largest finite bound (a lower bound). NaN when the histogram is empty.
 */
export function histogramQuantile(h: HistogramSnapshot, q: number): number {
  const bounds = [...h.buckets.keys()].sort((a, b) => a - b);
  const total = h.buckets.get(Infinity) ?? h.count;
  if (!(total > 0) || bounds.length === 0) return NaN;
  const rank = q * total;
  let prevBound = 0;
  let prevCum = 0;
  for (const bound of bounds) {
    const cum = h.buckets.get(bound) ?? 0;
    if (cum >= rank) {
      if (bound === Infinity) return prevBound;
      const inBucket = cum - prevCum;
      return inBucket <= 0 ? bound : prevBound + ((bound - prevBound) * (rank - prevCum)) / inBucket;
    }
    prevBound = bound;
    prevCum = cum;
  }
  return prevBound;
}

/** The upper bound of the bucket the q-quantile falls in (Infinity for the +Inf bucket). */
export function histogramBucketBound(h: HistogramSnapshot, q: number): number {
  const bounds = [...h.buckets.keys()].sort((a, b) => a - b);
  const total = h.buckets.get(Infinity) ?? h.count;
  if (!(total > 0)) return NaN;
  return bounds.find((b) => (h.buckets.get(b) ?? 0) >= q * total) ?? Infinity;
}

export async function scrape(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return res.text();
}
