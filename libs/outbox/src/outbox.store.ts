import { pruneSentOutbox } from '@tessera/db';
import { Client } from 'pg';

/** Session advisory-lock key of the relay leader ("OUTB"); only the session holding it publishes. */
export const OUTBOX_RELAY_LOCK_KEY = 0x4f555442;

export interface OutboxRow {
  seq: bigint;
  id: string;
  topic: string;
  key: string;
  payload: Buffer;
  createdAt: Date;
}

/**
 * The table every Tessera outbox uses (`outbox_events`, one per service database): `seq` (bigserial, relay order),
 * `id` (the envelope id), `topic`, `key`, `payload` (the encoded EventEnvelope, built when the row is written),
 * `headers` (jsonb), `created_at`, `sent_at` (NULL until published; a partial index on unsent rows), `attempts`.
 *
 * The relay's own Postgres session (plain `pg`, not the Prisma pool): the leader lock is
 * session-scoped, so it must live on one connection that the relay keeps for as long as it leads.
 * If the process dies, Postgres drops the session and the lock with it, and a standby takes over.
 */
export class OutboxStore {
  private client?: Client;
  private broken = false;

  /** `applicationName` shows in pg_stat_activity (`<service>-outbox-relay`). */
  constructor(
    private readonly databaseUrl: string,
    private readonly applicationName = 'outbox-relay',
  ) {}

  get connected(): boolean {
    return this.client !== undefined && !this.broken;
  }

  async connect(): Promise<void> {
    const client = new Client({ connectionString: this.databaseUrl, application_name: this.applicationName });
    client.on('error', () => {
      this.broken = true;
    });
    await client.connect();
    // A relay stuck mid-batch must not hold row locks forever.
    await client.query(`SET idle_in_transaction_session_timeout = '60s'`);
    this.client = client;
    this.broken = false;
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  /** True when this session is (or just became) the relay leader. */
  async tryLead(): Promise<boolean> {
    const { rows } = await this.db().query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [
      OUTBOX_RELAY_LOCK_KEY,
    ]);
    return rows[0]?.locked === true;
  }

  /**
   * Runs `publish` over the oldest unsent rows (seq order, locked with SKIP LOCKED) and marks them
   * sent in the same transaction. If `publish` throws, nothing is marked and the attempt is counted.
   * A crash between the broker's ack and COMMIT re-publishes the batch: at-least-once, same event ids.
   */
  async relayBatch(limit: number, publish: (rows: OutboxRow[]) => Promise<void>): Promise<OutboxRow[]> {
    const db = this.db();
    await db.query('BEGIN');
    let rows: OutboxRow[] = [];
    try {
      const result = await db.query<{ seq: string; id: string; topic: string; key: string; payload: Buffer; created_at: Date }>(
        `SELECT seq, id, topic, key, payload, created_at FROM outbox_events
          WHERE sent_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [limit],
      );
      rows = result.rows.map((r) => ({
        seq: BigInt(r.seq),
        id: r.id,
        topic: r.topic,
        key: r.key,
        payload: r.payload,
        createdAt: r.created_at,
      }));
      if (rows.length > 0) {
        await publish(rows);
        await db.query('UPDATE outbox_events SET sent_at = now(), attempts = attempts + 1 WHERE seq = ANY($1::bigint[])', [
          rows.map((r) => r.seq.toString()),
        ]);
      }
      await db.query('COMMIT');
    } catch (err) {
      await db.query('ROLLBACK').catch(() => {
        this.broken = true;
      });
      // Counted outside the rolled-back transaction so operators see stuck rows as rising `attempts`.
      if (rows.length > 0 && !this.broken) {
        await db
          .query('UPDATE outbox_events SET attempts = attempts + 1 WHERE seq = ANY($1::bigint[]) AND sent_at IS NULL', [
            rows.map((r) => r.seq.toString()),
          ])
          .catch(() => undefined);
      }
      throw err;
    }
    return rows;
  }

  /** Deletes published rows older than `retentionMs` (unsent rows stay, whatever their age); returns how many. */
  async pruneSent(retentionMs: number): Promise<number> {
    return pruneSentOutbox((sql, values) => this.execute(sql, values), { retentionMs });
  }

  /** One statement on the relay's session; the rows it touched. */
  async execute(sql: string, values: unknown[]): Promise<number> {
    return (await this.db().query(sql, values)).rowCount ?? 0;
  }

  async backlog(): Promise<number> {
    return (await this.backlogStats()).count;
  }

  /** Unsent rows and the age of the oldest (0 when none); both read the partial unsent index only. */
  async backlogStats(): Promise<{ count: number; oldestAgeSeconds: number }> {
    const { rows } = await this.db().query<{ n: string; age: number | null }>(
      'SELECT count(*) AS n, EXTRACT(EPOCH FROM now() - min(created_at))::float8 AS age FROM outbox_events WHERE sent_at IS NULL',
    );
    return { count: Number(rows[0]?.n ?? 0), oldestAgeSeconds: Math.max(0, rows[0]?.age ?? 0) };
  }

  private db(): Client {
    if (!this.client || this.broken) throw new Error('outbox relay session is not connected');
    return this.client;
  }
}
