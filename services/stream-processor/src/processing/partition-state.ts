import { HyperLogLog } from '../sketches/hyperloglog';
import { type WindowId, windowKeyOf, windowSeriesKey } from '../windowing/window-key';

const seriesKeyOf = (id: WindowId) => windowSeriesKey(id.tenantId, id.streamId, id.metric, id.dimKey, id.dimValue);
import { windowStartsFor, type WindowSpec } from '../windowing/window-spec';
import { WindowState, type WindowStateJson, type WindowSummary } from '../windowing/window-state';
import { DedupeWindow } from './dedupe-window';
import { DlqReason, type ChangelogEntry, type DeadLetterOut, type InputRecord, type NormalizedEvent } from './processing.types';

export interface AggregationOptions {
  windows: WindowSpec[];
  /** Attribute keys to split by, besides the total. */
  dimensions: string[];
  /** Attribute counted by the HyperLogLog distinct count. */
  distinctAttribute: string;
  allowedLatenessMs: number;
  /** Watermark = max event time seen on the partition minus this. */
  watermarkDelayMs: number;
  dedupeHorizonMs: number;
  /** How long a closed window is kept (to count late arrivals) before it is purged. */
  closedRetentionMs: number;
  /** Events more than this after their record's timestamp are refused (they would drag the watermark). */
  maxFutureSkewMs: number;
  hllPrecision: number;
  sketchAlpha: number;
}

/** One aggregate revision to publish. */
export interface EmittedAggregate {
  id: WindowId;
  windowKey: string;
  summary: WindowSummary;
  late: number;
  revision: number;
  final: boolean;
  /** True only on the revision that finalised the window (the watermark passed end + allowed lateness). */
  closing: boolean;
}

export interface BatchOutcome {
  aggregates: EmittedAggregate[];
  deadLetters: DeadLetterOut[];
  changelog: ChangelogEntry[];
  stats: { events: number; duplicates: number; late: number; poison: number; ignored: number };
}

interface MetaJson {
  maxEventTime: number;
  watermark: number;
  lateDropped: number;
}

/**
 * All state of one input partition: dedupe ids, open and recently closed windows, the watermark.
 * Pure (no I/O): the runner feeds it decoded records and writes what it returns (aggregates, dead
 * letters, changelog) in one Kafka transaction with the consumer offsets. Processing is
 * deterministic in record order, so state restored from the changelog and then fed the records
 * after the committed offset ends where an uninterrupted run would.
 */
export class PartitionState {
  private readonly windows = new Map<string, WindowState>();
  private readonly dedupe: DedupeWindow;
  private maxEventTime = -Infinity;
  private wm = -Infinity;
  private lateDropped = 0;
  /**
   * The same windows indexed for the hot path: series key (tenant, stream, metric, dimension), then the window family
   * (its index in `options.windows`), then the start. An event finds its ~24 windows with 3 string lookups instead of
   * building and hashing a full key per window (issue #11).
   */
  private readonly index = new Map<string, Array<Map<number, WindowState>>>();
  /** Windows changed since the last `finish` (each gets one revision then). */
  private dirty = new Set<WindowState>();
  private metaDirty = false;
  /**
   * Window records of a restore not parsed yet: the newest value per key (undefined: tombstoned). The changelog holds
   * every revision of a window until the broker compacts it (the active segment never is), so parsing each record
   * rebuilt a window's sketches once per revision only to drop them at the next: 139k records took 11 s while the
   * first batch after a restart waited (issue #11). Parsed once per key when the restore ends (`settleRestore`).
   */
  private restoringWindows: Map<string, string | undefined> | undefined;

  constructor(private readonly options: AggregationOptions) {
    const families = new Set(options.windows.map((w) => `${w.sizeMs}/${w.slideMs}`));
    if (families.size !== options.windows.length) throw new Error('a window family is listed twice');
    this.dedupe = new DedupeWindow(options.dedupeHorizonMs, undefined, options.watermarkDelayMs);
  }

  get watermark(): number {
    return this.wm;
  }

  get openWindows(): number {
    this.settleRestore();
    return this.windows.size;
  }

  /** Late events whose window had already been purged (counted nowhere else). */
  get lateWithoutWindow(): number {
    return this.lateDropped;
  }

  processBatch(records: InputRecord[]): BatchOutcome {
    this.settleRestore();
    const out: BatchOutcome = {
      aggregates: [],
      deadLetters: [],
      changelog: [],
      stats: { events: 0, duplicates: 0, late: 0, poison: 0, ignored: 0 },
    };
    for (const record of records) {
      if (record.kind === 'ignored') {
        out.stats.ignored++;
        continue;
      }
      if (record.kind === 'poison') {
        out.stats.poison++;
        out.deadLetters.push({ offset: record.offset, key: record.key, value: record.value, code: record.code, reason: record.reason });
        continue;
      }
      const ev = record.event;
      if (ev.eventTimeMs > record.timestampMs + this.options.maxFutureSkewMs) {
        out.stats.poison++;
        out.deadLetters.push({
          offset: record.offset,
          key: record.key,
          value: record.value,
          code: DlqReason.futureEventTime,
          reason: `event time is more than ${this.options.maxFutureSkewMs} ms after the record timestamp`,
        });
        continue;
      }
      if (!this.dedupe.firstSeen(`${ev.tenantId}/${ev.streamId}/${ev.eventId}`, ev.eventTimeMs)) {
        out.stats.duplicates++;
        continue;
      }
      out.stats.events++;
      this.observeEventTime(ev.eventTimeMs);
      const lateFor = this.apply(ev);
      if (lateFor.length > 0) {
        out.stats.late++;
        out.deadLetters.push({
          offset: record.offset,
          key: record.key,
          value: record.value,
          code: DlqReason.late,
          reason: `too late for ${lateFor.length} window(s), first ${lateFor[0]}; watermark ${new Date(this.wm).toISOString()}`,
        });
      }
    }
    this.finish(out, records[0]?.offset ?? 'x');
    return out;
  }

  /** Moves the watermark forward without events (wall-clock idleness) and closes/purges windows. */
  advanceWatermark(to: number): BatchOutcome {
    this.settleRestore();
    const out: BatchOutcome = {
      aggregates: [],
      deadLetters: [],
      changelog: [],
      stats: { events: 0, duplicates: 0, late: 0, poison: 0, ignored: 0 },
    };
    if (to > this.wm) {
      this.wm = to;
      this.metaDirty = true;
    }
    this.finish(out, `idle${Math.floor(to)}`);
    return out;
  }

  /** Replays one changelog record (in log order; later records of a key supersede earlier ones). */
  restore(key: string, value: string | undefined): void {
    if (key === 'm') {
      if (value === undefined) return;
      const meta = JSON.parse(value) as MetaJson;
      this.maxEventTime = meta.maxEventTime ?? -Infinity;
      this.wm = meta.watermark ?? -Infinity;
      this.lateDropped = meta.lateDropped;
    } else if (key.startsWith('w|')) {
      (this.restoringWindows ??= new Map()).set(key.slice(2), value);
    } else if (key.startsWith('d|')) {
      this.dedupe.restore(key, value);
    }
  }

  /**
   * Ends a restore: builds each restored window from its newest record (a tombstone drops it), then lets the dedupe
   * window drop what the restored watermark expired and parse the rest. Idempotent; every reader of the state calls it.
   */
  settleRestore(): void {
    const pending = this.restoringWindows;
    if (pending) {
      this.restoringWindows = undefined;
      for (const [windowKey, value] of pending) {
        const old = this.windows.get(windowKey);
        if (old) this.forget(old);
        if (value !== undefined)
          this.remember(
            WindowState.fromJSON(JSON.parse(value) as WindowStateJson, this.options.hllPrecision, this.options.sketchAlpha, windowKey),
          );
      }
    }
    this.dedupe.settle(this.wm); // after a restore: the restored watermark decides which restored ids still count
  }

  private observeEventTime(t: number): void {
    if (t > this.maxEventTime) this.maxEventTime = t;
    const candidate = this.maxEventTime - this.options.watermarkDelayMs;
    if (candidate > this.wm) this.wm = candidate;
    this.metaDirty = true;
  }

  /**
   * Adds the event to each of its windows; returns the keys of windows it came too late for. The hot loop of the
   * processor (~24 windows per event): the distinct value is hashed and the series keys built once per event, a
   * window's id object only when the window is new (issue #11).
   */
  private apply(ev: NormalizedEvent): string[] {
    const lateFor: string[] = [];
    const dimKeys: string[] = [''];
    const dimValues: string[] = [''];
    for (const d of ev.dimensions ?? this.options.dimensions) {
      const v = ev.attributes[d];
      if (v !== undefined && v !== '') {
        dimKeys.push(d);
        dimValues.push(v);
      }
    }
    const distinctValue = ev.attributes[this.options.distinctAttribute];
    const distinct = distinctValue === undefined || distinctValue === '' ? undefined : HyperLogLog.hashOf(distinctValue);
    const series: Array<Array<Map<number, WindowState>>> = [];
    for (const m of ev.measurements) {
      for (let d = 0; d < dimKeys.length; d++) {
        series.push(this.seriesWindows(windowSeriesKey(ev.tenantId, ev.streamId, m.metric, dimKeys[d] as string, dimValues[d] as string)));
      }
    }
    for (let f = 0; f < this.options.windows.length; f++) {
      const spec = this.options.windows[f] as WindowSpec;
      for (const startMs of windowStartsFor(spec, ev.eventTimeMs)) {
        const tooLate = startMs + spec.sizeMs + this.options.allowedLatenessMs <= this.wm;
        let s = 0;
        for (const m of ev.measurements) {
          for (let d = 0; d < dimKeys.length; d++) {
            const byStart = (series[s++] as Array<Map<number, WindowState>>)[f] as Map<number, WindowState>;
            let w = byStart.get(startMs);
            if (tooLate) {
              const key = w?.key ?? windowKeyOf(this.idOf(ev, m.metric, dimKeys[d] as string, dimValues[d] as string, spec, startMs));
              if (lateFor.length === 0 || lateFor[lateFor.length - 1] !== key) lateFor.push(key);
              if (w) {
                w.late++;
                this.dirty.add(w);
              } else {
                this.lateDropped++;
                this.metaDirty = true;
              }
              continue;
            }
            if (!w) {
              w = new WindowState(
                this.idOf(ev, m.metric, dimKeys[d] as string, dimValues[d] as string, spec, startMs),
                this.options.hllPrecision,
                this.options.sketchAlpha,
              );
              this.windows.set(w.key, w);
              byStart.set(startMs, w);
            }
            w.add(m.value, distinct, ev.eventTimeMs);
            this.dirty.add(w);
          }
        }
      }
    }
    return lateFor;
  }

  private idOf(ev: NormalizedEvent, metric: string, dimKey: string, dimValue: string, spec: WindowSpec, startMs: number): WindowId {
    return { tenantId: ev.tenantId, streamId: ev.streamId, metric, dimKey, dimValue, sizeMs: spec.sizeMs, slideMs: spec.slideMs, startMs };
  }

  /** Adds a restored window to both indexes (a window of a family no longer configured is kept, but no event finds it). */
  private remember(w: WindowState): void {
    this.windows.set(w.key, w);
    const f = this.familyOf(w.id);
    if (f >= 0) this.seriesWindows(seriesKeyOf(w.id))[f]?.set(w.id.startMs, w);
  }

  /** Drops a window from both indexes (and from the dirty set). */
  private forget(w: WindowState): void {
    this.windows.delete(w.key);
    this.dirty.delete(w);
    const seriesKey = seriesKeyOf(w.id);
    const byFamily = this.index.get(seriesKey);
    const byStart = byFamily?.[this.familyOf(w.id)];
    if (byStart?.get(w.id.startMs) === w) byStart.delete(w.id.startMs);
    if (byFamily?.every((m) => m.size === 0)) this.index.delete(seriesKey);
  }

  /** A series' windows by family (index in `options.windows`), then by start; created empty on first use. */
  private seriesWindows(seriesKey: string): Array<Map<number, WindowState>> {
    let byFamily = this.index.get(seriesKey);
    if (!byFamily) {
      byFamily = Array.from({ length: this.options.windows.length }, () => new Map<number, WindowState>());
      this.index.set(seriesKey, byFamily);
    }
    return byFamily;
  }

  /** The window's family index in `options.windows`, -1 for a family no longer configured. */
  private familyOf(id: WindowId): number {
    return this.options.windows.findIndex((spec) => spec.sizeMs === id.sizeMs && spec.slideMs === id.slideMs);
  }

  /** Closes windows the watermark passed, purges old ones, and collects emissions + changelog. */
  private finish(out: BatchOutcome, tag: string): void {
    const lateness = this.options.allowedLatenessMs;
    const closedNow = new Set<string>();
    for (const [key, w] of this.windows) {
      if (w.closed) {
        if (w.endMs + lateness + this.options.closedRetentionMs <= this.wm) {
          this.forget(w);
          out.changelog.push({ key: `w|${key}`, value: undefined });
        }
      } else if (w.endMs + lateness <= this.wm) {
        w.close();
        closedNow.add(key);
        this.dirty.add(w);
      }
    }
    for (const w of this.dirty) {
      const key = w.key;
      w.revision++;
      out.aggregates.push({
        id: w.id,
        windowKey: key,
        summary: w.summary(),
        late: w.late,
        revision: w.revision,
        final: w.closed,
        closing: closedNow.has(key),
      });
      out.changelog.push({ key: `w|${key}`, value: JSON.stringify(w.toJSON()) });
    }
    this.dirty = new Set();
    for (const dead of this.dedupe.expire(this.wm)) out.changelog.push({ key: dead, value: undefined });
    out.changelog.push(...this.dedupe.flush(tag));
    if (this.metaDirty) {
      const meta: MetaJson = { maxEventTime: this.maxEventTime, watermark: this.wm, lateDropped: this.lateDropped };
      out.changelog.push({ key: 'm', value: JSON.stringify(meta) });
      this.metaDirty = false;
    }
  }
}
