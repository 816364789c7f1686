import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { context, propagation, ROOT_CONTEXT } from '@opentelemetry/api';
import { OutboxPruner } from '@tessera/db';
import { createKafka, EventProducer } from '@tessera/kafka';
import { createLogger } from '@tessera/telemetry';
import { type ComplianceConfig, COMPLIANCE_CONFIG } from '../config';
import { PrismaService } from '../platform/prisma.provider';

/** Arbitrary fixed key: one active relay across instances (pg_try_advisory_xact_lock). */
const RELAY_LOCK_KEY = 5_005_200_001;
const BATCH = 100;

/**
 * Publishes outbox rows in seq order and marks them sent. At-least-once: a crash between the broker ack and
 * the UPDATE re-publishes the row with the SAME envelope id, which consumers dedupe. Rows of a rolled-back
 * transaction are never visible here, so they are never published.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = createLogger('OutboxRelay');
  private producer?: EventProducer;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  private readonly pruner: OutboxPruner;

  constructor(
    @Inject(COMPLIANCE_CONFIG) private readonly config: ComplianceConfig,
    private readonly prisma: PrismaService,
  ) {
    this.pruner = new OutboxPruner({ retentionMs: config.COMPLIANCE_OUTBOX_RETENTION_MS, execute: (sql, values) => prisma.client.$executeRawUnsafe(sql, ...values) });
  }

  async onApplicationBootstrap(): Promise<void> {
    const logger = createLogger('kafkajs');
    this.producer = new EventProducer({ kafka: createKafka({ clientId: 'compliance-outbox', brokers: this.config.KAFKA_BROKERS, logger }), source: 'compliance', logger });
    await this.producer.connect();
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.drain()
        .then(() => undefined)
        .catch((err: unknown) => this.logger.warn({ err }, 'outbox relay pass failed; retrying'))
        .finally(() => this.schedule());
    }, this.config.COMPLIANCE_OUTBOX_POLL_MS);
  }

  /** Publishes until no unsent rows remain (or another instance holds the relay lock), then prunes if due. Returns rows sent. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const sent = await this.relayBatch();
      total += sent;
      if (sent < BATCH) break;
    }
    await this.pruneIfDue();
    return total;
  }

  /** At most once a minute: published rows past the retention window go (@tessera/db pruneSentOutbox). Returns rows deleted. */
  async pruneIfDue(now = Date.now()): Promise<number> {
    const deleted = await this.pruner.pruneIfDue(now);
    if (deleted > 0) this.logger.info({ deleted, retentionMs: this.config.COMPLIANCE_OUTBOX_RETENTION_MS }, 'outbox: published rows past retention deleted');
    return deleted;
  }

  private relayBatch(): Promise<number> {
    const producer = this.producer;
    if (!producer) return Promise.resolve(0);
    return this.prisma.client.$transaction(
      async (tx) => {
        const [lock] = await tx.$queryRaw<Array<{ locked: boolean }>>`SELECT pg_try_advisory_xact_lock(${RELAY_LOCK_KEY}::bigint) AS locked`;
        if (!lock?.locked) return 0;
        const rows = await tx.$queryRaw<Array<{ seq: bigint; id: string; topic: string; key: string; type: string; subject: string; payload: Uint8Array; traceparent: string; created_at: Date }>>`
          SELECT seq, id::text, topic, key, type, subject, payload, traceparent, created_at FROM outbox_events
          WHERE sent_at IS NULL ORDER BY seq LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`;
        for (const row of rows) {
          const parent = row.traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent: row.traceparent }) : context.active();
          await context.with(parent, () =>
            producer.publish(row.topic, { id: row.id, type: row.type, subject: row.subject, key: row.key, time: row.created_at, data: new Uint8Array(row.payload) }),
          );
        }
        if (rows.length > 0) {
          await tx.outboxEvent.updateMany({ where: { seq: { in: rows.map((r) => r.seq) } }, data: { sentAt: new Date() } });
        }
        return rows.length;
      },
      { timeout: 30_000 },
    );
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.producer?.disconnect();
  }
}
