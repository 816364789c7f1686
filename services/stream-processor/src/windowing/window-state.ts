import { DDSketch, type DDSketchJson } from '../sketches/ddsketch';
import { type HllHash, HyperLogLog, type HyperLogLogJson } from '../sketches/hyperloglog';
import { type WindowId, windowKeyOf } from './window-key';

/** The numbers of one window revision, as emitted. */
export interface WindowSummary {
  count: number;
  sum: number;
  min: number;
  max: number;
  p50: number;
  p95: number;
  p99: number;
  distinct: number;
  /**
   * Newest event time (epoch ms) among the aggregated events: where event-to-visible latency is measured
   * from. Undefined when unknown (state restored from a changelog written before it was tracked).
   */
  maxEventTimeMs?: number;
}

const QUANTILES = [0.5, 0.95, 0.99];

export interface WindowStateJson {
  id: WindowId;
  count: number;
  sum: number;
  min: number;
  max: number;
  late: number;
  revision: number;
  closed: boolean;
  /** Absent in changelogs written before it was tracked. */
  maxEventTimeMs?: number;
  hll?: HyperLogLogJson;
  sketch?: DDSketchJson;
  summary?: WindowSummary;
}

/**
 * One open (or recently closed) window. Closing freezes the summary and frees the sketches: a
 * closed window only counts late arrivals until it is purged.
 */
export class WindowState {
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  late = 0;
  revision = 0;
  closed = false;
  /** -Infinity until the first event; undefined once unknown (see WindowSummary.maxEventTimeMs). */
  private maxEventTime: number | undefined = -Infinity;
  private hll: HyperLogLog | undefined;
  private sketch: DDSketch | undefined;
  private frozen: WindowSummary | undefined;

  /** `windowKeyOf(id)`, built once. */
  readonly key: string;

  constructor(
    readonly id: WindowId,
    hllPrecision = 11,
    sketchAlpha = 0.01,
    key?: string,
  ) {
    this.key = key ?? windowKeyOf(id);
    this.hll = new HyperLogLog(hllPrecision);
    this.sketch = new DDSketch(sketchAlpha);
  }

  get endMs(): number {
    return this.id.startMs + this.id.sizeMs;
  }

  /** `distinct`: the distinct attribute's value, or its hash (`HyperLogLog.hashOf`) when the caller adds it to many windows. */
  add(value: number, distinct: string | HllHash | undefined, eventTimeMs: number): void {
    if (this.closed || !this.hll || !this.sketch) throw new Error('window is closed');
    this.count++;
    if (this.maxEventTime !== undefined && eventTimeMs > this.maxEventTime) this.maxEventTime = eventTimeMs;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    this.sketch.add(value);
    if (typeof distinct === 'string') {
      if (distinct !== '') this.hll.add(distinct);
    } else if (distinct !== undefined) this.hll.addHash(distinct);
  }

  close(): void {
    if (this.closed) return;
    this.frozen = this.summary();
    this.closed = true;
    this.hll = undefined;
    this.sketch = undefined;
  }

  summary(): WindowSummary {
    if (this.frozen) return this.frozen;
    const empty = this.count === 0;
    const [p50, p95, p99] = empty || !this.sketch ? [0, 0, 0] : this.sketch.quantiles(QUANTILES);
    return {
      count: this.count,
      sum: this.sum,
      min: empty ? 0 : this.min,
      max: empty ? 0 : this.max,
      p50: p50 as number,
      p95: p95 as number,
      p99: p99 as number,
      distinct: this.hll?.estimate() ?? 0,
      ...(!empty && this.maxEventTime !== undefined ? { maxEventTimeMs: this.maxEventTime } : {}),
    };
  }

  toJSON(): WindowStateJson {
    const maxEventTimeMs = this.maxEventTime !== undefined && Number.isFinite(this.maxEventTime) ? this.maxEventTime : undefined;
    const base = {
      id: this.id,
      count: this.count,
      sum: this.sum,
      min: this.min,
      max: this.max,
      late: this.late,
      revision: this.revision,
      closed: this.closed,
      maxEventTimeMs,
    };
    if (this.closed) return { ...base, summary: this.summary() };
    return { ...base, hll: this.hll?.toJSON(), sketch: this.sketch?.toJSON() };
  }

  /** `key`: the window's key as stored (the changelog record's), else computed from the id. */
  static fromJSON(json: WindowStateJson, hllPrecision = 11, sketchAlpha = 0.01, key?: string): WindowState {
    const w = new WindowState(json.id, hllPrecision, sketchAlpha, key);
    w.count = json.count;
    w.sum = json.sum;
    // JSON turns ±Infinity into null; an empty window has none.
    w.min = json.min ?? Infinity;
    w.max = json.max ?? -Infinity;
    w.late = json.late;
    w.revision = json.revision;
    // Older changelogs lack it: a max over only the events after the restore would be wrong, so it stays unknown.
    w.maxEventTime = json.maxEventTimeMs ?? (json.count > 0 ? undefined : -Infinity);
    if (json.closed) {
      w.closed = true;
      w.frozen = json.summary;
      w.hll = undefined;
      w.sketch = undefined;
    } else {
      if (json.hll) w.hll = HyperLogLog.fromJSON(json.hll);
      if (json.sketch) w.sketch = DDSketch.fromJSON(json.sketch);
    }
    return w;
  }
}
