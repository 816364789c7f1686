import { context, SpanKind, trace } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { markSpanFailed } from '@tessera/telemetry';
import { ConsumerLagMonitor, createProducer, isProducerStateError, type KafkaLogger, reportFatalCrashes } from '@tessera/kafka';
import {
  type Admin,
  CompressionTypes,
  type Consumer,
  type EachBatchPayload,
  type Kafka,
  KafkaJSError,
  type KafkaMessage,
  type Message,
  type Producer,
  type ProducerRecord,
} from 'kafkajs';
import { decodePaymentEvent, isAggregatedPaymentEvent } from '../payments/payment-event.decoder';
import { PartitionState, type AggregationOptions, type BatchOutcome } from '../processing/partition-state';
import type { InputRecord } from '../processing/processing.types';
import { decodeRawEvent } from '../processing/raw-event.decoder';
import type { TenantMetadata } from '../processing/tenant-metadata';
import { contributorLinks, traceIdOf } from './batch-trace';
import { ChangelogLayout, ensureChangelogTopic, ensureRepartitionTopic, restoreChangelog } from './changelog.store';
import { aggregateMessage, changelogMessage, chunkBySize, deadLetterMessage } from './output.messages';
import { StreamProcessorMetrics } from './stream-processor.metrics';
import { traceWindowCloses, windowCloseCounts } from './window-close.tracing';

export interface StreamProcessorTopics {
  raw: string;
  /** Undefined: no payment metrics. */
  payments?: string;
  /**
   * Payment events re-keyed to one key (`payments/transfers`) so each payment window is aggregated
   * in exactly one partition state (the source topic is keyed by account). Required with `payments`.
   */
  paymentsRepartition?: string;
  aggregates: string;
  dlq: string;
  changelog: string;
}

export interface StreamProcessorOptions {
  kafka: Kafka;
  logger: KafkaLogger;
  groupId: string;
  transactionalIdPrefix: string;
  topics: StreamProcessorTopics;
  aggregation: AggregationOptions;
  tenants: TenantMetadata;
  /** 0 disables watermark advance on idleness. */
  idleAdvanceMs: number;
  transactionTimeoutMs: number;
  fromBeginning: boolean;
  maxBatchBytes: number;
  /** The broker holds a fetch until this many bytes are there or `fetchMaxWaitMs` passed (Kafka's fetch.min.bytes). */
  fetchMinBytes: number;
  fetchMaxWaitMs: number;
}

/** Running totals, for logs, tests and the bench. */
export interface ProcessorStats {
  /** Payment records copied to the repartition topic. */
  forwarded: number;
  /** Payment records not copied: events without payment metrics (isAggregatedPaymentEvent). */
  skipped: number;
  batches: number;
  transactions: number;
  records: number;
  events: number;
  duplicates: number;
  late: number;
  poison: number;
  aggregatesEmitted: number;
  restores: number;
}

const key = (topic: string, partition: number) => `${topic}:${partition}`;
const tracer = trace.getTracer('stream-processor');

/** The single key of the payments repartition topic: all payment windows share tenant/stream `payments/transfers`. */
export const PAYMENTS_REPARTITION_KEY = 'payments/transfers';

/**
 * Read-process-write with exactly-once semantics on kafkajs:
 *  - eachBatch per input partition; everything a stateful partition's batch produces (aggregates, dead
 *    letters, state changelog) and the group's next offset go into ONE Kafka transaction;
 *  - one transactional producer per stateful input partition (id `<prefix>-<topic>-<partition>`): whoever
 *    gets the partition after a rebalance or crash re-initialises that id, which aborts the previous
 *    owner's open transaction and fences it (kafkajs has no KIP-447 group-metadata fencing);
 *  - after each group join, state of every assigned partition is rebuilt from the compacted
 *    changelog (read_committed), so it is exactly the state as of the committed offset;
 *  - the stateless payments copy (source topic -> repartition topic) is at least once; the aggregation
 *    dedupes its repeats by envelope id (see forwardPayments). It copies only the events the aggregation uses.
 */
export class StreamProcessorRunner {
  readonly stats: ProcessorStats = {
    forwarded: 0,
    skipped: 0,
    batches: 0,
    transactions: 0,
    records: 0,
    events: 0,
    duplicates: 0,
    late: 0,
    poison: 0,
    aggregatesEmitted: 0,
    restores: 0,
  };
  private readonly admin: Admin;
  private consumer: Consumer | undefined;
  private layout: ChangelogLayout | undefined;
  /** Transactional producers of the stateful input partitions (aggregation), one per partition. */
  private readonly producers = new Map<string, Producer>();
  /** The payments copy's producer: idempotent, not transactional (see forwardPayments). */
  private forwarder: Producer | undefined;
  private readonly states = new Map<string, PartitionState>();
  /** Next offset to process per partition (the committed one, then ours after each commit). */
  private readonly positions = new Map<string, bigint>();
  private readonly lastActivity = new Map<string, number>();
  private assignment: Record<string, number[]> = {};
  private generation = 0;
  private readyGeneration = -1;
  private lock: Promise<unknown> = Promise.resolve();
  private idleTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly metrics: StreamProcessorMetrics;
  private lagMonitor: ConsumerLagMonitor | undefined;

  constructor(private readonly options: StreamProcessorOptions) {
    this.admin = options.kafka.admin();
    this.metrics = new StreamProcessorMetrics(options.groupId);
  }

  /** Topics whose partitions hold windowed state (one changelog partition each). */
  private get aggregationTopics(): string[] {
    return [this.options.topics.raw, ...(this.paymentsTopics ? [this.paymentsTopics.repartition] : [])];
  }

  private get inputTopics(): string[] {
    return [...this.aggregationTopics, ...(this.paymentsTopics ? [this.paymentsTopics.source] : [])];
  }

  private get paymentsTopics(): { source: string; repartition: string } | undefined {
    const { payments, paymentsRepartition } = this.options.topics;
    if (!payments) return undefined;
    if (!paymentsRepartition) throw new Error('payments input needs a repartition topic');
    return { source: payments, repartition: paymentsRepartition };
  }

  async start(): Promise<void> {
    await this.admin.connect();
    if (this.paymentsTopics) await ensureRepartitionTopic(this.admin, this.paymentsTopics.repartition);
    const meta = await this.admin.fetchTopicMetadata({ topics: this.aggregationTopics });
    this.layout = new ChangelogLayout(
      this.aggregationTopics.map((topic) => ({ topic, partitions: meta.topics.find((t) => t.name === topic)?.partitions.length ?? 0 })),
    );
    await ensureChangelogTopic(this.admin, this.options.topics.changelog, this.layout);

    const consumer = this.options.kafka.consumer({
      groupId: this.options.groupId,
      allowAutoTopicCreation: false,
      readUncommitted: false,
      maxWaitTimeInMs: this.options.fetchMaxWaitMs,
      minBytes: this.options.fetchMinBytes,
      maxBytesPerPartition: this.options.maxBatchBytes,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      this.generation++;
      this.assignment = e.payload.memberAssignment;
      this.options.logger.info({ assignment: this.assignment, generation: this.generation }, 'partitions assigned');
      // Fence and restore now, not when the first batch arrives: a processor restarted while its input was quiet is
      // ready when traffic comes (it used to restore under the first load, issue #11). A batch arriving meanwhile waits
      // on the lock; a failure here leaves the work to the first batch, as before.
      void this.exclusive(async () => {
        if (!this.stopped && this.readyGeneration !== this.generation) await this.prepareAssignment();
      }).catch((err: unknown) => {
        this.readyGeneration = -1;
        this.options.logger.warn({ err }, 'preparing the assignment failed; the first batch retries it');
      });
    });
    reportFatalCrashes(consumer, {
      groupId: this.options.groupId,
      topics: this.inputTopics,
      logger: this.options.logger,
      active: () => !this.stopped,
    });
    if (this.paymentsTopics) {
      this.forwarder = createProducer(this.options.kafka);
      await this.forwarder.connect();
    }
    await consumer.connect();
    await consumer.subscribe({ topics: this.inputTopics, fromBeginning: this.options.fromBeginning });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (p) => this.onBatch(p),
    });
    // Offsets committed through the transactions (sendOffsets) are the group's, so the admin-based monitor reads them.
    this.lagMonitor = new ConsumerLagMonitor({
      admin: this.options.kafka.admin(),
      groupId: this.options.groupId,
      topics: this.inputTopics,
      logger: this.options.logger,
    });
    await this.lagMonitor.start();
    if (this.options.idleAdvanceMs > 0) {
      this.idleTimer = setInterval(
        () => void this.advanceIdle().catch((err: unknown) => this.options.logger.warn({ err }, 'idle watermark advance failed')),
        Math.max(250, this.options.idleAdvanceMs / 2),
      );
      this.idleTimer.unref();
    }
  }

  /** Lets the batch in hand commit, then leaves the group and closes the producers. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.idleTimer) clearInterval(this.idleTimer);
    await this.lagMonitor?.stop().catch(() => undefined);
    await this.consumer?.disconnect();
    await this.exclusive(async () => {
      for (const p of this.producers.values()) await p.disconnect().catch(() => undefined);
      this.producers.clear();
      await this.forwarder?.disconnect().catch(() => undefined);
    });
    await this.admin.disconnect();
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (batch.messages.length === 0) return;
    await this.exclusive(async () => {
      if (this.readyGeneration !== this.generation) await this.prepareAssignment();
      const k = key(batch.topic, batch.partition);
      const state = this.states.get(k);
      const forwarding = batch.topic === this.paymentsTopics?.source;
      if (!state && !forwarding) {
        this.readyGeneration = -1;
        throw new Error(`batch for ${k}, which the last group join did not assign`);
      }
      const position = this.positions.get(k);
      if (position === undefined) {
        this.readyGeneration = -1;
        throw new Error(`no position for ${k}, which the last group join did not assign`);
      }
      // Records below the committed offset were already processed (e.g. a commit that succeeded but reported an error).
      const messages = batch.messages.filter((m) => BigInt(m.offset) >= position);
      const last = batch.messages[batch.messages.length - 1] as KafkaMessage;
      if (messages.length === 0) {
        resolveOffset(last.offset);
        return;
      }
      if (!isRunning() || isStale()) return;
      const next = BigInt(last.offset) + 1n;
      let outcome: BatchOutcome | undefined;
      try {
        if (state) {
          const records = messages.map((m) => this.decode(batch.topic, m));
          outcome = state.processBatch(records);
          await this.commit(batch.topic, batch.partition, outcome, next, records);
        } else {
          await this.forwardPayments(batch.topic, batch.partition, messages, next);
        }
      } catch (error) {
        this.readyGeneration = -1; // state may be ahead of what committed: rebuild before the next batch
        if (isProducerStateError(error)) {
          // The producer's id/epoch/sequence is wrong for good (e.g. OUT_OF_ORDER_SEQUENCE_NUMBER after a broker loss):
          // drop it, so the next batch's preparation makes a new one (InitProducerId aborts and fences the open
          // transaction) and restores the state from the changelog; kafkajs retries instead of stopping the consumer.
          const broken = this.producers.get(k);
          this.producers.delete(k);
          await broken?.disconnect().catch(() => undefined);
          this.options.logger.warn(
            { err: error, partition: k },
            'transactional producer unusable; a new one takes over from the committed state',
          );
          throw new KafkaJSError(error as Error, { retriable: true });
        }
        throw error;
      }
      this.positions.set(k, next);
      this.lastActivity.set(k, Date.now());
      resolveOffset(last.offset);
      if (outcome) {
        this.count(outcome, messages.length);
        this.metrics.committed(batch.topic, outcome);
      }
    });
    await heartbeat();
  }

  /**
   * Repartition step (Kafka Streams style): copies payment records unchanged, with their timestamps, to the
   * repartition topic under one key, then commits the source offsets: at least once, not in a transaction.
   *
   * A crash between the copy and the commit copies those records again on restart, with the same envelope ids, and the
   * aggregation drops them as duplicates exactly as it drops the transactions outbox relay's re-publishes (which make
   * the source topic at-least-once anyway): the payment aggregates stay exactly-once. The copy used to run in a
   * transaction per source-partition batch: ~10 broker requests (FindCoordinator, AddPartitionsToTxn, its
   * verification, Produce, AddOffsetsToTxn, TxnOffsetCommit, EndTxn, the markers) for what is now one Produce and one
   * OffsetCommit. With transfers trickling in one at a time over 6 partitions, that was most of the broker's requests
   * and CPU (issue #10).
   */
  private async forwardPayments(topic: string, partition: number, messages: KafkaMessage[], nextOffset: bigint): Promise<void> {
    const target = this.paymentsTopics?.repartition;
    const forwarder = this.forwarder;
    const consumer = this.consumer;
    if (!target || !forwarder || !consumer) throw new Error('payments are disabled');
    // Only what the aggregation uses (isAggregatedPaymentEvent): the rest would be copied only to be ignored there.
    const out: Message[] = messages
      .filter((m) => isAggregatedPaymentEvent(m.value))
      .map((m) => ({ key: PAYMENTS_REPARTITION_KEY, value: m.value, timestamp: m.timestamp, headers: m.headers }));
    if (out.length > 0) await sendChunks(forwarder, [{ topic: target, messages: out }]);
    await consumer.commitOffsets([{ topic, partition, offset: nextOffset.toString() }]);
    this.stats.forwarded += out.length;
    this.stats.skipped += messages.length - out.length;
  }

  private decode(topic: string, m: KafkaMessage): InputRecord {
    const decoded = topic === this.options.topics.raw ? decodeRawEvent(m.value, this.options.tenants) : decodePaymentEvent(m.value);
    return { ...decoded, offset: m.offset, key: m.key, value: m.value, timestampMs: Number(m.timestamp) };
  }

  /**
   * Publishes a batch's output and (for input batches) the next offset in one transaction, inside one
   * `aggregate window batch` span: every emitted aggregate carries its trace id, and the span links to
   * the traces of the batch's events (`records`; none for an idle watermark advance). Windows the batch
   * finalises get a `window close` child span each (window-close.tracing.ts).
   */
  private async commit(
    topic: string,
    partition: number,
    outcome: BatchOutcome,
    nextOffset?: bigint,
    records: InputRecord[] = [],
  ): Promise<void> {
    const layout = this.layout;
    if (!layout) throw new Error('not started');
    const { links, dropped } = contributorLinks(records);
    const attributes = {
      'messaging.system': 'kafka',
      'messaging.destination.name': topic,
      'messaging.destination.partition.id': String(partition),
      'messaging.batch.message_count': records.length,
      'tessera.aggregates.emitted': outcome.aggregates.length,
      'tessera.links.dropped': dropped,
      ...windowCloseCounts(outcome.aggregates),
    };
    await tracer.startActiveSpan('aggregate window batch', { kind: SpanKind.CONSUMER, links, attributes }, async (span) => {
      try {
        const now = new Date();
        const traceId = traceIdOf(span);
        const changelogPartition = layout.partitionFor(topic, partition);
        const sends: Send[] = [
          { topic: this.options.topics.aggregates, messages: outcome.aggregates.map((a) => aggregateMessage(a, now, traceId)) },
          { topic: this.options.topics.dlq, messages: outcome.deadLetters.map((d) => deadLetterMessage(d, { topic, partition }, now)) },
          // zstd (@tessera/kafka ZstdCodec): JSON window state, read back only by this processor's restore.
          {
            topic: this.options.topics.changelog,
            messages: outcome.changelog.map((e) => changelogMessage(e, changelogPartition)),
            compression: CompressionTypes.ZSTD,
          },
        ];
        await traceWindowCloses(outcome.aggregates, () => this.transact(topic, partition, sends, nextOffset));
      } catch (error) {
        markSpanFailed(span, error);
        throw error;
      } finally {
        span.end();
      }
    });
    this.stats.aggregatesEmitted += outcome.aggregates.length;
  }

  /** One Kafka transaction on the input partition's producer: the sends plus (for input batches) the next offset. */
  private async transact(topic: string, partition: number, sends: Send[], nextOffset?: bigint): Promise<void> {
    const producer = this.producers.get(key(topic, partition));
    if (!producer) throw new Error(`no transactional producer for ${key(topic, partition)}`);
    const tx = await producer.transaction();
    try {
      await sendChunks(tx, sends);
      if (nextOffset !== undefined) {
        await tx.sendOffsets({
          consumerGroupId: this.options.groupId,
          topics: [{ topic, partitions: [{ partition, offset: nextOffset.toString() }] }],
        });
      }
      await tx.commit();
    } catch (error) {
      await tx.abort().catch(() => undefined);
      throw error;
    }
    this.stats.transactions++;
  }

  /**
   * Fences the previous owners (producer per assigned stateful partition), reads the group's committed
   * offsets and rebuilds the state of every assigned partition from the changelog.
   */
  private async prepareAssignment(): Promise<void> {
    if (!this.layout) throw new Error('not started');
    const generation = this.generation;
    const assigned = new Set<string>();
    for (const [topic, partitions] of Object.entries(this.assignment)) {
      if (this.aggregationTopics.includes(topic)) for (const p of partitions) assigned.add(key(topic, p));
    }
    for (const [k, producer] of this.producers) {
      if (!assigned.has(k)) {
        await producer.disconnect().catch(() => undefined);
        this.producers.delete(k);
      }
    }
    this.states.clear();
    this.positions.clear();
    for (const k of assigned) {
      if (this.producers.has(k)) continue;
      const producer = createProducer(this.options.kafka, {
        transactionalId: `${this.options.transactionalIdPrefix}-${k.replace(':', '-')}`,
        transactionTimeout: this.options.transactionTimeoutMs,
      });
      await producer.connect(); // InitProducerId: aborts and fences the previous owner's open transaction
      this.producers.set(k, producer);
    }
    const fresh = new Map<number, PartitionState>();
    for (const [topic, partitions] of Object.entries(this.assignment)) {
      const committed = await this.admin.fetchOffsets({ groupId: this.options.groupId, topics: [topic] });
      for (const p of partitions) {
        if (this.aggregationTopics.includes(topic)) {
          const state = new PartitionState(this.options.aggregation);
          this.states.set(key(topic, p), state);
          fresh.set(this.layout.partitionFor(topic, p), state);
        }
        const offset = committed[0]?.partitions.find((x) => x.partition === p)?.offset ?? '-1';
        this.positions.set(key(topic, p), BigInt(offset) >= 0n ? BigInt(offset) : 0n);
      }
    }
    await restoreChangelog({
      kafka: this.options.kafka,
      admin: this.admin,
      topic: this.options.topics.changelog,
      partitions: [...fresh.keys()],
      logger: this.options.logger,
      apply: (partition, k, v) => fresh.get(partition)?.restore(k, v),
    });
    for (const state of fresh.values()) state.settleRestore(); // each window parsed once, from its newest record
    this.stats.restores++;
    this.readyGeneration = generation;
  }

  /** Closes windows of partitions without traffic for `idleAdvanceMs` by moving their watermark with the wall clock. */
  private async advanceIdle(): Promise<void> {
    await this.exclusive(async () => {
      if (this.stopped || this.readyGeneration !== this.generation) return;
      const now = Date.now();
      for (const [k, state] of this.states) {
        const last = this.lastActivity.get(k) ?? now;
        if (!this.lastActivity.has(k)) this.lastActivity.set(k, now);
        const idleFor = now - last;
        if (idleFor < this.options.idleAdvanceMs || state.openWindows === 0 || !Number.isFinite(state.watermark)) continue;
        const [topic, partition] = [k.slice(0, k.lastIndexOf(':')), Number(k.slice(k.lastIndexOf(':') + 1))];
        const outcome = state.advanceWatermark(state.watermark + idleFor);
        try {
          if (outcome.changelog.length > 0) await this.commit(topic, partition, outcome);
        } catch (error) {
          this.readyGeneration = -1;
          throw error;
        }
        this.lastActivity.set(k, now);
      }
    });
  }

  private count(outcome: BatchOutcome, records: number): void {
    this.stats.batches++;
    this.stats.records += records;
    this.stats.events += outcome.stats.events;
    this.stats.duplicates += outcome.stats.duplicates;
    this.stats.late += outcome.stats.late;
    this.stats.poison += outcome.stats.poison;
  }

  private exclusive<R>(task: () => Promise<R>): Promise<R> {
    const run = this.lock.then(task, task);
    this.lock = run.catch(() => undefined);
    return run;
  }
}

/**
 * Sends records in size-bounded chunks (chunkBySize), acks=all, on a producer or a transaction. No kafkajs-instrumentation
 * span per produced record (hundreds per poll: every aggregate revision, every changelog entry): the batch span stands
 * for the poll, and each record's traceparent header is the one set on it (the batch span's for aggregates, the source
 * event's for copied payments), not a per-send span's.
 */
async function sendChunks(sender: { send(record: ProducerRecord): Promise<unknown> }, sends: Send[]): Promise<void> {
  await context.with(suppressTracing(context.active()), async () => {
    for (const s of sends) {
      for (const chunk of chunkBySize(s.messages))
        await sender.send({
          topic: s.topic,
          messages: chunk,
          acks: -1,
          ...(s.compression === undefined ? {} : { compression: s.compression }),
        });
    }
  });
}

/** Records for one topic, and how their batches are compressed (none by default). */
interface Send {
  topic: string;
  messages: Message[];
  compression?: CompressionTypes;
}
