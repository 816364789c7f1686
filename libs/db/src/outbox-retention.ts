/**
 * Deletes published outbox rows older than `retentionMs`, oldest first: `batch` rows per statement, at most
 * `maxBatches` statements per call (so one call stays short under the relay's lock). Returns the rows deleted.
 *
 * Both services keep their transactional outbox in an `outbox_events` table with `seq` (primary key, insertion
 * order) and `sent_at` (set when published). Published rows were never deleted: transactions' table reached 173 MB
 * on the dev machine after the benches, every row written twice (insert, then the non-HOT `sent_at` update). A
 * retention window keeps recent rows for diagnosis; unsent rows are never touched, whatever their age. The scan
 * walks the primary key from the oldest row and stops after `batch` matches.
 *
 * `execute` runs one statement and returns its row count: `pg`'s `(sql, values) => client.query(...).rowCount`,
 * or Prisma's `$executeRawUnsafe`.
 */
export async function pruneSentOutbox(
  execute: (sql: string, values: unknown[]) => Promise<number>,
  options: { retentionMs: number; batch?: number; maxBatches?: number },
): Promise<number> {
  const batch = options.batch ?? 5_000;
  const maxBatches = options.maxBatches ?? 10;
  let deleted = 0;
  for (let i = 0; i < maxBatches; i++) {
    const n = await execute(PRUNE_SENT_OUTBOX_SQL, [options.retentionMs, batch]);
    deleted += n;
    if (n < batch) break;
  }
  return deleted;
}

export const PRUNE_SENT_OUTBOX_SQL = `DELETE FROM outbox_events WHERE seq IN (
  SELECT seq FROM outbox_events
   WHERE sent_at IS NOT NULL AND sent_at < now() - make_interval(secs => $1::float8 / 1000)
   ORDER BY seq LIMIT $2)`;

/**
 * The retention schedule both relays share: {@link pruneSentOutbox} at most once per `everyMs` (default a minute),
 * nothing when `retentionMs` is 0. `pruneIfDue(now)` returns the rows deleted (0 when not due).
 */
export class OutboxPruner {
  private prunedAt = 0;

  constructor(
    private readonly options: { retentionMs: number; execute: (sql: string, values: unknown[]) => Promise<number>; everyMs?: number },
  ) {}

  async pruneIfDue(now = Date.now()): Promise<number> {
    if (this.options.retentionMs <= 0 || now - this.prunedAt < (this.options.everyMs ?? 60_000)) return 0;
    this.prunedAt = now;
    return pruneSentOutbox(this.options.execute, { retentionMs: this.options.retentionMs });
  }
}
