/** Serialised sketch: bins as `[key, count]` pairs sorted by key. */
export interface DDSketchJson {
  a: number;
  z: number;
  pos: Array<[number, number]>;
  neg: Array<[number, number]>;
}

/**
 * x^n by binary exponentiation (n < 0: (1/x)^-n). IEEE multiplication is exactly rounded, so this gives the same bits
 * in every language that follows the same steps (the Go stage's sketch.PowInt); `**` / Math.pow need not agree across
 * runtimes. Bucket bounds and values are defined by it (issue #15: both stages compute the same percentiles).
 */
export function powInt(x: number, n: number): number {
  // (1/x)^-n rather than 1 / x^-n: tiny buckets (1e-310) stay subnormal instead of 1 / Infinity = 0.
  if (n < 0) return powInt(1 / x, -n);
  let result = 1;
  let base = x;
  for (let e = n; e > 0; e >>>= 1) {
    if (e & 1) result *= base;
    base *= base;
  }
  return result;
}

/** 2^-1022, the smallest normal double. */
const MIN_NORMAL = 2.2250738585072014e-308;

/** The last value keyed and its key, per gamma: an event's value goes into ~24 windows' sketches in a row. */
let lastGamma = NaN;
let lastValue = NaN;
let lastKey = 0;

/**
 * DDSketch quantile sketch (Masson, Rim, Lee, VLDB 2019): every quantile it returns is within a
 * relative error `alpha` of the true value. Bins are counts per logarithmic bucket, so two sketches
 * of the same multiset are identical whatever the insertion order (a property the exactly-once
 * test relies on). At most `maxBins` bins per sign; beyond that the lowest collapse into the
 * lowest kept one (only values far below the rest lose accuracy).
 *
 * Written here rather than taken from `@datadog/sketches-js` 2.1.1: its serialisation needs an
 * undeclared protobufjs dependency, `fromProto` drops min/max and `merge` ignores negative values.
 */
export class DDSketch {
  private readonly gamma: number;
  private readonly logGamma: number;
  private readonly minIndexable: number;
  private readonly pos = new Map<number, number>();
  private readonly neg = new Map<number, number>();
  private zeroCount = 0;
  private total = 0;
  /**
   * The bins sorted by key, kept until the next change: a window's revision reads them twice (its three quantiles and
   * its changelog record), and sorting them was ~9% of the processor's CPU under live load.
   */
  private sortedCache: { pos: Array<[number, number]>; neg: Array<[number, number]> } | undefined;

  constructor(
    readonly alpha = 0.01,
    private readonly maxBins = 2048,
  ) {
    if (!(alpha > 0 && alpha < 1)) throw new RangeError('alpha must be in (0, 1)');
    this.gamma = (1 + alpha) / (1 - alpha);
    this.logGamma = Math.log(this.gamma);
    // Magnitudes up to the smallest normal double (x gamma) count as zero: below it the powers of gamma lose precision
    // (subnormals), several buckets would share one bound and the key would depend on the runtime's log.
    this.minIndexable = MIN_NORMAL * this.gamma;
  }

  get count(): number {
    return this.total;
  }

  add(value: number): void {
    if (!Number.isFinite(value)) throw new RangeError('DDSketch accepts finite values only');
    if (value > this.minIndexable) this.bump(this.pos, this.key(value), 1);
    else if (value < -this.minIndexable) this.bump(this.neg, this.key(-value), 1);
    else this.zeroCount++;
    this.total++;
  }

  /** The value at quantile q (0..1), or NaN when empty; the lower-rank convention of the paper. */
  quantile(q: number): number {
    return this.quantiles([q])[0] as number;
  }

  /**
   * The values at several quantiles in one pass over the sorted bins (a window's summary asks for three: sorting the
   * bins once instead of three times was ~10% of the processor's CPU). Same results as `quantile` for each.
   */
  quantiles(qs: readonly number[]): number[] {
    const out = qs.map(() => NaN);
    if (this.total === 0) return out;
    // Ranks in ascending order, each answered at the first bin whose cumulative count passes it.
    const order = qs
      .map((q, i) => ({ i, rank: q * (this.total - 1) }))
      .filter((x) => (qs[x.i] as number) >= 0 && (qs[x.i] as number) <= 1)
      .sort((a, b) => a.rank - b.rank);
    let next = 0;
    let seen = 0;
    const answer = (value: number) => {
      while (next < order.length && seen > (order[next] as { rank: number }).rank) out[(order[next++] as { i: number }).i] = value;
    };
    // Most negative first: for negative values a larger key is a larger magnitude.
    const { pos, neg } = this.sorted();
    for (let i = neg.length - 1; i >= 0; i--) {
      const [k, c] = neg[i] as [number, number];
      seen += c;
      answer(-this.value(k));
      if (next === order.length) return out;
    }
    seen += this.zeroCount;
    answer(0);
    if (next === order.length) return out;
    for (const [k, c] of pos) {
      seen += c;
      answer(this.value(k));
      if (next === order.length) return out;
    }
    const last = this.value(pos[pos.length - 1]?.[0] ?? 0);
    while (next < order.length) out[(order[next++] as { i: number }).i] = last;
    return out;
  }

  toJSON(): DDSketchJson {
    const { pos, neg } = this.sorted();
    return { a: this.alpha, z: this.zeroCount, pos, neg };
  }

  /** Both signs' bins as `[key, count]` in ascending key order (cached until the next change; do not modify). */
  private sorted(): { pos: Array<[number, number]>; neg: Array<[number, number]> } {
    const bins = (m: Map<number, number>) => [...m.entries()].sort((a, b) => a[0] - b[0]);
    this.sortedCache ??= { pos: bins(this.pos), neg: bins(this.neg) };
    return this.sortedCache;
  }

  static fromJSON(json: DDSketchJson): DDSketch {
    const s = new DDSketch(json.a);
    s.zeroCount = json.z;
    s.total = json.z;
    for (const [k, c] of json.pos) {
      s.pos.set(k, c);
      s.total += c;
    }
    for (const [k, c] of json.neg) {
      s.neg.set(k, c);
      s.total += c;
    }
    return s;
  }

  /**
   * The bucket k with gamma^(k-1) < v <= gamma^k, powers by `powInt`: the logarithm only proposes k (runtimes' logs
   * may differ in the last bit), the comparison decides, so the Go stage puts every value in the same bucket.
   */
  private key(v: number): number {
    if (lastValue === v && lastGamma === this.gamma) return lastKey;
    let k = Math.ceil(Math.log(v) / this.logGamma);
    while (v > powInt(this.gamma, k)) k++;
    while (v <= powInt(this.gamma, k - 1)) k--;
    [lastGamma, lastValue, lastKey] = [this.gamma, v, k];
    return k;
  }

  /**
   * Midpoint (in relative terms) of bucket k = (gamma^(k-1), gamma^k]: gamma^(k-1) * 2 gamma / (1 + gamma), from the
   * lower bound so a bucket near Number.MAX_VALUE gives a finite value (gamma^k itself may overflow); capped at MAX_VALUE.
   */
  private value(k: number): number {
    return Math.min(powInt(this.gamma, k - 1) * ((2 * this.gamma) / (1 + this.gamma)), Number.MAX_VALUE);
  }

  private bump(bins: Map<number, number>, k: number, n: number): void {
    this.sortedCache = undefined;
    bins.set(k, (bins.get(k) ?? 0) + n);
    if (bins.size > this.maxBins) {
      const keys = [...bins.keys()].sort((a, b) => a - b);
      const keep = keys[keys.length - this.maxBins] as number;
      let moved = 0;
      for (const low of keys) {
        if (low >= keep) break;
        moved += bins.get(low) ?? 0;
        bins.delete(low);
      }
      bins.set(keep, (bins.get(keep) ?? 0) + moved);
    }
  }
}
