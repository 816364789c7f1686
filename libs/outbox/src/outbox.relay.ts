import { context, type Counter, type Histogram, metrics, type ObservableGauge, ROOT_CONTEXT } from '@opentelemetry/api';
import { setTimeout as sleep } from 'node:timers/promises';
import { OutboxPruner } from '@tessera/db';
import { decodeEnvelope, type StoredEvent } from '@tessera/kafka';
import { createLogger, type Logger } from '@tessera/telemetry';
import { OutboxStore, type OutboxRow } from './outbox.store';

/** What the relay needs from a Kafka producer; {@link EventProducer} fits. */
export interface EnvelopePublisher {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  publishEnvelopes(topic: string, events: StoredEvent[]): Promise<void>;
}

/** Relay tuning (each service reads its own `<SERVICE>_OUTBOX_*` variables into it). */
export interface OutboxRelaySettings {
  /** Rows per publish batch (one Kafka send per topic, one UPDATE). */
  batchSize: number;
  /** Idle poll interval when the outbox is empty. */
  pollMs: number;
  /** How often a standby instance retries to become the relay leader. */
  leaderPollMs: number;
  /** Ceiling of the exponential backoff while Kafka or Postgres fail. */
  maxBackoffMs: number;
  /** Published rows older than this are deleted by the leader, once a minute (@tessera/db pruneSentOutbox); 0 keeps them. */
  retentionMs: number;
}

export interface OutboxRelayOptions {
  /** The service whose outbox this is: the metrics' scope `tessera.<service>.outbox` and the session's application_name. */
  service: string;
  databaseUrl: string;
  publisher: EnvelopePublisher;
  settings: OutboxRelaySettings;
  logger?: Logger;
}

/**
 * Publishes committed outbox rows to Kafka in seq order and marks them sent. One leader per database
 * (session advisory lock); standbys poll for the lock. Kafka or Postgres failures back off
 * exponentially (capped) and retry forever: an event is never dropped, at worst published twice with
 * the same envelope id.
 */
export class OutboxRelay {
  private readonly logger: Logger;
  private readonly store: OutboxStore;
  private readonly published: Counter;
  private readonly failures: Counter;
  private readonly lag: Histogram;
  private readonly backlogGauge: ObservableGauge;
  private readonly oldestAgeGauge: ObservableGauge;
  private backlog = 0;
  private oldestAgeSeconds = 0;
  private backlogCheckedAt = 0;
  /** Published rows past `retentionMs` go once a minute, on the leader's session. */
  private readonly pruner: OutboxPruner;
  private leading = false;
  private publisherConnected = false;
  private stopping = false;
  private loop?: Promise<void>;
  private wake?: AbortController;

  constructor(private readonly options: OutboxRelayOptions) {
    this.logger = options.logger ?? createLogger('OutboxRelay');
    const meter = metrics.getMeter(`tessera.${options.service}.outbox`);
    this.published = meter.createCounter('tessera.outbox.events.published', {
      description: 'Outbox events acknowledged by Kafka',
      unit: '{event}',
    });
    this.failures = meter.createCounter('tessera.outbox.publish.failures', {
      description: 'Failed relay batches (retried)',
      unit: '{batch}',
    });
    this.lag = meter.createHistogram('tessera.outbox.publish.lag', { description: 'Commit-to-publish delay of outbox events', unit: 'ms' });
    this.backlogGauge = meter.createObservableGauge('tessera.outbox.backlog', {
      description: 'Unsent outbox rows (leader only)',
      unit: '{event}',
    });
    this.oldestAgeGauge = meter.createObservableGauge('tessera.outbox.oldest_age', {
      description: 'Age of the oldest unsent outbox row (leader only)',
      unit: 's',
    });
    this.store = new OutboxStore(options.databaseUrl, `${options.service}-outbox-relay`);
    this.pruner = new OutboxPruner({
      retentionMs: options.settings.retentionMs,
      execute: (sql, values) => this.store.execute(sql, values),
    });
    this.backlogGauge.addCallback((result) => {
      if (this.leading) result.observe(this.backlog);
    });
    this.oldestAgeGauge.addCallback((result) => {
      if (this.leading) result.observe(this.oldestAgeSeconds);
    });
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Starts the relay loop in the background; returns at once. */
  start(): void {
    if (this.loop) return;
    this.stopping = false;
    // A root context: the relay's own Postgres queries belong to no request's trace.
    this.loop = context.with(ROOT_CONTEXT, () => this.run());
  }

  /** Finishes the batch in flight, then releases the leader lock and disconnects. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.abort();
    await this.loop;
    this.loop = undefined;
    if (this.publisherConnected) await this.options.publisher.disconnect().catch(() => undefined);
    this.publisherConnected = false;
    await this.store.close();
    this.leading = false;
  }

  private async run(): Promise<void> {
    const { batchSize, pollMs, leaderPollMs } = this.options.settings;
    let consecutiveFailures = 0;
    while (!this.stopping) {
      try {
        if (!this.store.connected) {
          this.leading = false;
          await this.store.close();
          await this.store.connect();
        }
        if (!this.leading) {
          this.leading = await this.store.tryLead();
          if (!this.leading) {
            await this.pause(leaderPollMs);
            continue;
          }
          this.logger.info({}, 'outbox relay leader');
        }
        if (!this.publisherConnected) {
          await this.options.publisher.connect();
          this.publisherConnected = true;
        }
        const rows = await this.store.relayBatch(batchSize, (batch) => this.publish(batch));
        if (consecutiveFailures > 0) this.logger.info({ afterFailures: consecutiveFailures }, 'outbox relay recovered');
        consecutiveFailures = 0;
        await this.refreshBacklog(rows.length === 0);
        if (rows.length < batchSize) {
          await this.pruneIfDue();
          await this.pause(pollMs);
        }
      } catch (err) {
        consecutiveFailures++;
        this.failures.add(1);
        const delay = this.backoffMs(consecutiveFailures);
        const log = consecutiveFailures >= 5 ? this.logger.error.bind(this.logger) : this.logger.warn.bind(this.logger);
        log({ err: errorSummary(err), consecutiveFailures, retryInMs: delay }, 'outbox relay batch failed; will retry');
        // While Kafka is away the backlog grows: that is when the gauges matter most, so keep them fresh.
        if (this.leading && this.store.connected) await this.refreshBacklog(false).catch(() => undefined);
        // A failed send may leave the producer in a bad state; a fresh connection is cheap next to the backoff.
        if (this.publisherConnected) await this.options.publisher.disconnect().catch(() => undefined);
        this.publisherConnected = false;
        await this.pause(delay);
      }
    }
  }

  private async publish(rows: OutboxRow[]): Promise<void> {
    const byTopic = new Map<string, StoredEvent[]>();
    for (const row of rows) {
      const events = byTopic.get(row.topic) ?? [];
      events.push({ key: row.key, envelope: decodeEnvelope(row.payload) });
      byTopic.set(row.topic, events);
    }
    // Topics in turn; within a topic the batch keeps seq order, so each key's events stay ordered.
    for (const [topic, events] of byTopic) {
      await this.options.publisher.publishEnvelopes(topic, events);
      this.published.add(events.length, { 'messaging.destination.name': topic });
    }
    const now = Date.now();
    for (const row of rows) this.lag.record(now - row.createdAt.getTime());
  }

  /**
   * Deletes published rows past `retentionMs`, at most once a minute (OutboxPruner in @tessera/db), on the relay's
   * session; the loop calls it while leading and caught up. Returns the rows deleted (0 when not due).
   */
  async pruneIfDue(now = Date.now()): Promise<number> {
    const deleted = await this.pruner.pruneIfDue(now);
    if (deleted > 0)
      this.logger.info({ deleted, retentionMs: this.options.settings.retentionMs }, 'outbox: published rows past retention deleted');
    return deleted;
  }

  private async refreshBacklog(idle: boolean): Promise<void> {
    if (idle) {
      this.backlog = 0;
      this.oldestAgeSeconds = 0;
      return;
    }
    if (Date.now() - this.backlogCheckedAt < 1000) return;
    this.backlogCheckedAt = Date.now();
    const stats = await this.store.backlogStats();
    this.backlog = stats.count;
    this.oldestAgeSeconds = stats.oldestAgeSeconds;
  }

  private backoffMs(failures: number): number {
    const cap = this.options.settings.maxBackoffMs;
    const exp = Math.min(cap, 100 * 2 ** Math.min(failures, 20));
    return Math.round(exp / 2 + Math.random() * (exp / 2));
  }

  /** Sleeps, but returns at once when stop() is called. */
  private async pause(ms: number): Promise<void> {
    if (this.stopping) return;
    this.wake = new AbortController();
    await sleep(ms, undefined, { signal: this.wake.signal }).catch(() => undefined);
  }
}

function errorSummary(err: unknown): { name: string; message: string } {
  return err instanceof Error ? { name: err.name, message: err.message } : { name: 'unknown', message: String(err) };
}
