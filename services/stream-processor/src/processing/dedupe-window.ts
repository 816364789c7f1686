/**
 * Event ids seen within the last `horizonMs` of event time, in buckets of `bucketMs` so expiry
 * drops whole buckets (memory is bounded by the ids of one horizon; lookups are one Map get).
 * Each batch's new ids are one changelog record per bucket, named by the batch's first offset, and
 * tombstoned when the bucket expires: restoring = replaying the surviving records.
 *
 * Trade-off: a duplicate arriving more than a horizon after its original is not recognised. With
 * the horizon at least window size + allowed lateness, such a duplicate is too late for every
 * window anyway, so it can only inflate a late_events counter, never an aggregate.
 *
 * Restoring keeps each record's raw value (a later record or tombstone of the same key replaces it, as compaction
 * would) and parses only what survives, once the watermark is known (`settle`). A record whose bucket is already out of
 * the horizon is dropped as soon as it is certain: a bucket exists only if an event of that time was seen, so the
 * watermark is at least the newest bucket minus the watermark delay. Without that, a changelog written under a longer
 * horizon, or by a processor that died before its buckets expired, was parsed whole and ran the heap out of memory
 * (issue #11: 1.7M ids after a 5,000 events/s run).
 */
export class DedupeWindow {
  /**
   * The ids of each live bucket, in a Set per bucket: an id costs its string and one Set entry (~85 bytes; one Map of id
   * -> bucket plus an id list per bucket was ~120). A lookup asks each live bucket (~horizon / bucket + 1 of them).
   */
  private readonly buckets = new Map<number, { ids: Set<string>; records: string[] }>();
  private pending = new Map<number, string[]>();
  private count = 0;
  /** Restored records not parsed yet, by key (in log order); undefined once settled. */
  private restoring: Map<string, { bucket: number; value: string }> | undefined;
  private newestRestoredBucket = -Infinity;
  /** Keys of restored records dropped as expired: tombstoned with the next expiry. */
  private dueTombstones: string[] = [];

  constructor(
    readonly horizonMs: number,
    readonly bucketMs: number = Math.max(1000, Math.floor(horizonMs / 10)),
    /** How far the watermark may trail the newest event time (AggregationOptions.watermarkDelayMs). */
    private readonly watermarkDelayMs = 0,
  ) {}

  get size(): number {
    return this.count;
  }

  /** Restored records held unparsed (until `settle`). */
  get restoringRecords(): number {
    return this.restoring?.size ?? 0;
  }

  /** True the first time an id is seen (and remembers it); false for a duplicate. */
  firstSeen(id: string, eventTimeMs: number): boolean {
    this.assertSettled();
    if (this.has(id)) return false;
    const bucket = Math.floor(eventTimeMs / this.bucketMs) * this.bucketMs;
    this.bucketOf(bucket).ids.add(id);
    this.count++;
    const p = this.pending.get(bucket) ?? [];
    p.push(id);
    this.pending.set(bucket, p);
    return true;
  }

  /** Forgets buckets that ended before `watermarkMs - horizon`; returns their changelog keys. */
  expire(watermarkMs: number): string[] {
    this.settle(watermarkMs);
    const cutoff = watermarkMs - this.horizonMs;
    const tombstones = this.dueTombstones;
    this.dueTombstones = [];
    for (const [bucket, b] of this.buckets) {
      if (bucket + this.bucketMs > cutoff) continue;
      this.count -= b.ids.size;
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

  /** Replays one changelog record written by {@link flush}, or its tombstone (`value` undefined). */
  restore(key: string, value: string | undefined): void {
    this.restoring ??= new Map();
    const bucket = Number(key.split('|')[1]);
    if (value === undefined) {
      this.restoring.delete(key);
      return;
    }
    if (bucket > this.newestRestoredBucket) {
      this.newestRestoredBucket = bucket;
      this.dropExpired(this.newestRestoredBucket - this.watermarkDelayMs);
    }
    if (this.expiredAt(bucket, this.newestRestoredBucket - this.watermarkDelayMs)) this.dueTombstones.push(key);
    else this.restoring.set(key, { bucket, value });
  }

  /** Ends a restore at the restored watermark: drops what expired, parses the rest. Idempotent. */
  settle(watermarkMs: number): void {
    const restoring = this.restoring;
    if (!restoring) return;
    this.dropExpired(watermarkMs);
    this.restoring = undefined;
    this.newestRestoredBucket = -Infinity;
    for (const [key, { bucket, value }] of restoring) {
      const b = this.bucketOf(bucket);
      b.records.push(key);
      for (const id of JSON.parse(value) as string[]) {
        if (this.has(id)) continue;
        b.ids.add(id);
        this.count++;
      }
    }
  }

  private has(id: string): boolean {
    for (const b of this.buckets.values()) if (b.ids.has(id)) return true;
    return false;
  }

  private bucketOf(bucket: number): { ids: Set<string>; records: string[] } {
    let b = this.buckets.get(bucket);
    if (!b) {
      b = { ids: new Set(), records: [] };
      this.buckets.set(bucket, b);
    }
    return b;
  }

  /** A lookup needs the restore settled at the restored watermark first (the owner calls `settle`). */
  private assertSettled(): void {
    if (this.restoring) throw new Error('DedupeWindow: settle(watermark) after restoring, before the first lookup');
  }

  private expiredAt(bucket: number, watermarkMs: number): boolean {
    return bucket + this.bucketMs <= watermarkMs - this.horizonMs;
  }

  private dropExpired(watermarkMs: number): void {
    if (!this.restoring) return;
    for (const [key, r] of this.restoring) {
      if (!this.expiredAt(r.bucket, watermarkMs)) continue;
      this.restoring.delete(key);
      this.dueTombstones.push(key);
    }
  }
}
