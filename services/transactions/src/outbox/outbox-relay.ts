import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { metrics, ROOT_CONTEXT, context } from '@opentelemetry/api';
import { OutboxPruner } from '@tessera/db';
import { createKafka, decodeEnvelope, EventProducer, type StoredEvent } from '@tessera/kafka';
import { createLogger, type Logger } from '@tessera/telemetry';
import { setTimeout as sleep } from 'node:timers/promises';
import { type TransactionsConfig, TRANSACTIONS_CONFIG } from '../config';
import { loadOutboxRelayConfig, type OutboxRelayConfig } from './outbox-relay.config';
import { OutboxStore, type OutboxRow } from './outbox.store';

/** What the relay needs from a Kafka producer; {@link EventProducer} fits. */
export interface EnvelopePublisher {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  publishEnvelopes(topic: string, events: StoredEvent[]): Promise<void>;
}

export interface OutboxRelayOptions {
  databaseUrl: string;
  publisher: EnvelopePublisher;
  config: OutboxRelayConfig;
  logger?: Logger;
}


const meter = metrics.getMeter('tessera.transactions.outbox');

/**
 * Publishes committed outbox rows to Kafka in seq order and marks them sent. One leader per database
 * (session advisory lock); standbys poll for the lock. Kafka or Postgres failures back off
 * exponentially (capped) and retry forever: an event is never dropped, at worst published twice with
 * the same envelope id.
 */
export class OutboxRelay {
  private readonly logger: Logger;
  private readonly store: OutboxStore;
  private readonly published = meter.createCounter('tessera.outbox.events.published', { description: 'Outbox events acknowledged by Kafka', unit: '{event}' });
  private readonly failures = meter.createCounter('tessera.outbox.publish.failures', { description: 'Failed relay batches (retried)', unit: '{batch}' });
  private readonly lag = meter.createHistogram('tessera.outbox.publish.lag', { description: 'Commit-to-publish delay of outbox events', unit: 'ms' });
  private readonly backlogGauge = meter.createObservableGauge('tessera.outbox.backlog', { description: 'Unsent outbox rows (leader only)', unit: '{event}' });
  private readonly oldestAgeGauge = meter.createObservableGauge('tessera.outbox.oldest_age', { description: 'Age of the oldest unsent outbox row (leader only)', unit: 's' });
  private backlog = 0;
  private oldestAgeSeconds = 0;
  private backlogCheckedAt = 0;
  /** Published rows past TRANSACTIONS_OUTBOX_RETENTION_MS go once a minute, on the leader's session. */
  private readonly pruner: OutboxPruner;
  private leading = false;
  private publisherConnected = false;
  private stopping = false;
  private loop?: Promise<void>;
  private wake?: AbortController;

  constructor(private readonly options: OutboxRelayOptions) {
    this.logger = options.logger ?? createLogger('OutboxRelay');
    this.store = new OutboxStore(options.databaseUrl);
    this.pruner = new OutboxPruner({ retentionMs: options.config.TRANSACTIONS_OUTBOX_RETENTION_MS, execute: (sql, values) => this.store.execute(sql, values) });
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
    const { TRANSACTIONS_OUTBOX_BATCH_SIZE: batchSize, TRANSACTIONS_OUTBOX_POLL_MS: pollMs, TRANSACTIONS_OUTBOX_LEADER_POLL_MS: leaderPollMs } = this.options.config;
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

  /** While leading and caught up (see OutboxPruner in @tessera/db). */
  private async pruneIfDue(): Promise<void> {
    const deleted = await this.pruner.pruneIfDue();
    if (deleted > 0) this.logger.info({ deleted, retentionMs: this.options.config.TRANSACTIONS_OUTBOX_RETENTION_MS }, 'outbox: published rows past retention deleted');
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
    const cap = this.options.config.TRANSACTIONS_OUTBOX_MAX_BACKOFF_MS;
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

/** Nest lifecycle around {@link OutboxRelay}: started after bootstrap, drained on shutdown. */
@Injectable()
export class OutboxRelayService implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly relay?: OutboxRelay;

  constructor(@Inject(TRANSACTIONS_CONFIG) config: TransactionsConfig) {
    const relayConfig = loadOutboxRelayConfig();
    if (!relayConfig.TRANSACTIONS_OUTBOX_RELAY_ENABLED) return;
    const logger = createLogger('OutboxRelay');
    const kafka = createKafka({
      clientId: 'transactions-outbox-relay',
      brokers: config.KAFKA_BROKERS,
      logger,
      // Fail a send within seconds when the broker is away; the relay's own backoff takes over from there.
      config: { connectionTimeout: 3000, requestTimeout: 10_000, retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 } },
    });
    this.relay = new OutboxRelay({
      databaseUrl: config.TRANSACTIONS_DATABASE_URL,
      publisher: new EventProducer({ kafka, source: 'transactions', logger }),
      config: relayConfig,
      logger,
    });
  }

  onApplicationBootstrap(): void {
    this.relay?.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.relay?.stop();
  }
}
