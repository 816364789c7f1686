/**
 * Event ids seen within the last `horizonMs` of event time, in buckets of `bucketMs` so expiry
 * drops whole buckets (memory is bounded by the ids of one horizon; lookups are one Map get).
 * Each batch's new ids are one changelog record per bucket, named by the batch's first offset, and
 * tombstoned when the bucket expires: restoring = replaying the surviving records.
 *
 * Trade-off: a duplicate arriving more than a horizon after its original is not recognised. With
 * the horizon at least window size + allowed lateness, such a duplicate is too late for every
 * window anyway, so it can only inflate a late_events counter, never an aggregate.
 */
export class DedupeWindow {
  private readonly seen = new Map<string, number>();
  private readonly buckets = new Map<number, { ids: string[]; records: string[] }>();
  private pending = new Map<number, string[]>();

  constructor(
    readonly horizonMs: number,
    readonly bucketMs: number = Math.max(1000, Math.floor(horizonMs / 10)),
  ) {}

  get size(): number {
    return this.seen.size;
  }

  /** True the first time an id is seen (and remembers it); false for a duplicate. */
  firstSeen(id: string, eventTimeMs: number): boolean {
    if (this.seen.has(id)) return false;
    const bucket = Math.floor(eventTimeMs / this.bucketMs) * this.bucketMs;
    this.seen.set(id, bucket);
    const b = this.buckets.get(bucket) ?? { ids: [], records: [] };
    b.ids.push(id);
    this.buckets.set(bucket, b);
    const p = this.pending.get(bucket) ?? [];
    p.push(id);
    this.pending.set(bucket, p);
    return true;
  }

  /** Forgets buckets that ended before `watermarkMs - horizon`; returns their changelog keys. */
  expire(watermarkMs: number): string[] {
    const cutoff = watermarkMs - this.horizonMs;
    const tombstones: string[] = [];
    for (const [bucket, b] of this.buckets) {
      if (bucket + this.bucketMs > cutoff) continue;
      for (const id of b.ids) this.seen.delete(id);
      tombstones.push(...b.records);
      this.buckets.delete(bucket);
      this.pending.delete(bucket);
    }
    return tombstones;
  }

  /** New ids since the last flush as changelog records `d|<bucket>|<tag>` → JSON id list. */
  flush(tag: string): Array<{ key: string; value: string }> {
    const out: Array<{ key: string; value: string }> = [];
    for (const [bucket, ids] of this.pending) {
      const key = `d|${bucket}|${tag}`;
      this.buckets.get(bucket)?.records.push(key);
      out.push({ key, value: JSON.stringify(ids) });
    }
    this.pending = new Map();
    return out;
  }

  /** Restores one changelog record written by {@link flush}. */
  restore(key: string, value: string): void {
    const bucket = Number(key.split('|')[1]);
    const ids = JSON.parse(value) as string[];
    const b = this.buckets.get(bucket) ?? { ids: [], records: [] };
    b.records.push(key);
    for (const id of ids) {
      if (this.seen.has(id)) continue;
      this.seen.set(id, bucket);
      b.ids.push(id);
    }
    this.buckets.set(bucket, b);
  }
}
