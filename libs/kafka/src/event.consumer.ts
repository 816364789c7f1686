import { setTimeout as sleep } from 'node:timers/promises';
import { context, SpanKind, trace, type Context, type Link, type Meter, type Span } from '@opentelemetry/api';
import {
  type Consumer,
  type EachBatchPayload,
  type EachMessagePayload,
  type IHeaders,
  type Kafka,
  type KafkaMessage,
  type Producer,
} from 'kafkajs';
import { injectFault, markSpanFailed, reportComponentFailure } from '@tessera/telemetry';
import { ConsumerLagMonitor } from './consumer-lag.monitor';
import { deadLetterMessage, dlqTopicFor, failureReason } from './dead-letter';
import { DeadLetterCounter } from './dead-letter.metrics';
import { decodeEnvelope, type EventEnvelope, type MessageCodec } from './envelope';
import { createProducer, type KafkaLogger } from './kafka.client';
import { DEFAULT_RETRY_POLICY, decideAfterFailure, PoisonMessageError, type RetryPolicy } from './retry-policy';
import { extractTraceContext } from './trace-headers';

/**
 * What the `kafka-consume` fault toggle throws in place of the handler (libs/telemetry faults.ts): a bug in the
 * handler, retried like one and dead-lettered after the policy's attempts with this code, so a workshop can break a
 * consumer, fix it (switch the fault off) and replay exactly these letters (`npm run dlq -- replay <dlq> --error-code
 * FAULTS.INJECTED`).
 */
class InjectedHandlerFault extends Error {
  override readonly name = 'InjectedHandlerFault';
  readonly code = 'FAULTS.INJECTED';
}
const handlerBug = () => new InjectedHandlerFault('the handler failed on purpose (fault toggle kafka-consume)');

const tracer = trace.getTracer('@tessera/kafka');
const GROUP_ID = /^[a-z][a-z0-9-]*\.[a-z][a-z0-9.-]*$/;

/** Where a message came from and how often it was tried; passed to every handler call. */
export interface MessageContext {
  topic: string;
  partition: number;
  offset: string;
  key: string | undefined;
  headers: IHeaders;
  /** 1 for the first try. */
  attempt: number;
  /** Aborted when the consumer is stopping; long handlers may stop early (the message is redelivered). */
  signal: AbortSignal;
}

export type EventHandler<T> = (envelope: EventEnvelope, decoded: T, ctx: MessageContext) => Promise<void>;

/** One decoded message of a fetched batch. */
export interface BatchItem<T> {
  envelope: EventEnvelope;
  decoded: T;
  ctx: MessageContext;
  /**
   * The producer's trace context of this message. The batch runs in one batch span; run per-message work under
   * `context.with(item.trace, ...)` when something (a log line, an alert's trace id) must point at the message's trace.
   */
  trace: Context;
}

/**
 * Handles the decoded messages of one fetched partition batch, in offset order, as one unit (e.g. one database
 * statement). Throwing retries the whole batch with the retry policy; a PoisonMessageError, or retries running out,
 * falls back to handling the messages one by one (each as a batch of one, with its own retries and dead letter), so
 * one bad message costs the batch its speed, never its good messages.
 */
export type BatchHandler<T> = (items: Array<BatchItem<T>>) => Promise<void>;

/** Links of a batch span to the producers' spans: capped, the newest first (OpenTelemetry's default link limit is 128). */
const MAX_BATCH_LINKS = 64;

export interface EventConsumerOptions<T> {
  kafka: Kafka;
  /** `<service>.<purpose>`, e.g. `compliance.aml-monitor`. */
  groupId: string;
  topics: string[];
  /** Payload codec; its `decode` failing makes the message poison (straight to the DLQ). */
  codec: MessageCodec<T>;
  /** Accepted envelope types; other types are poison. Omit to accept any type. */
  types?: string[];
  /** Handles one message. Give this or `batchHandler`. */
  handler?: EventHandler<T>;
  /**
   * Handles a fetched batch at once (see BatchHandler): one `process <topic>` span per batch, linked to the producers'
   * spans, instead of one per message. For handlers whose cost is per call rather than per message.
   */
  batchHandler?: BatchHandler<T>;
  /**
   * With `batchHandler`: one CONSUMER span per message, a child of its producer's span, instead of one span per batch,
   * and `item.trace` is that span's context. For consumers whose per-message work belongs in the event's trace (the
   * AML monitor: the trace of a transfer shows its monitoring); costs a span per message.
   */
  messageSpans?: boolean;
  logger: KafkaLogger;
  retry?: Partial<RetryPolicy>;
  /** Start from the earliest offset when the group has no commit yet (default true). */
  fromBeginning?: boolean;
  /**
   * Also commit after this many handled messages inside a fetched batch. By default offsets are committed once
   * per fetched batch (and when the consumer stops): a crash re-delivers at most the handled part of the batch in
   * hand, which idempotent handlers ignore. `1` commits after every message: one OffsetCommit request each (with
   * two consumers per transfer that was 6 commits per transfer and ~half of the broker's requests in the transfers
   * bench, issue #10).
   */
  commitEvery?: number;
  /**
   * Lets the broker hold a fetch until `minBytes` are there or `maxWaitMs` passed (Kafka's fetch.min.bytes and
   * fetch.max.wait.ms). kafkajs' defaults (1 byte) answer every fetch with whatever arrived: a consumer of a trickle
   * handles one or two messages per batch and pays its per-batch cost (a transaction, an offset commit) per message.
   * For consumers where half a second of extra delay costs nothing (the AML monitor) a wait turns the trickle into
   * batches. Default: kafkajs' (1 byte, 5 s).
   */
  fetch?: { minBytes: number; maxWaitMs: number };
  /**
   * Fetched batches of this many partitions are handled at once (kafkajs's `partitionsConsumedConcurrently`); each
   * partition's batches still go one at a time and in order. For handlers whose time is mostly a database round trip
   * (insights' upsert: the next partition's batch is decoded while the database stores the last one). Handlers must be
   * safe to run concurrently for different partitions. Default 1.
   */
  partitionsConsumedConcurrently?: number;
  /** Lag gauge refresh; 0 disables the monitor. Default 15 s. */
  lagIntervalMs?: number;
  /**
   * How long stop() waits for a start that is still joining the group (default 2 s). After a `kill -9` the broker
   * holds a new member's JoinGroup until the dead member's session times out (~30 s); waiting for it made a restarted
   * service ignore SIGTERM for 10 s and get killed (issue #10/#14). A member that never joined has nothing to commit.
   */
  stopJoinWaitMs?: number;
  /** Meter for the lag gauge and `tessera.dlq.messages`; defaults to the global `@tessera/kafka` meter. */
  meter?: Meter;
  /** Injected for tests of the backoff path. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** Thrown inside the retry loop when stop() interrupts a backoff; the offset stays uncommitted. */
export class ConsumerStoppingError extends Error {
  override readonly name = 'ConsumerStoppingError';
}

/**
 * Consumes enveloped protobuf events with at-least-once delivery: an offset is committed only after
 * the handler succeeded or the message was written to `<topic>.dlq`. Failures are retried in-process
 * with exponential backoff and full jitter (bounded by `retry.maxAttempts`), so one bad message
 * delays its partition for a few seconds at most instead of blocking it forever. Undecodable
 * messages skip the retries. Handlers must be idempotent (dedupe on `envelope.id`).
 *
 * Each message is handled inside a CONSUMER span whose parent is the producer's trace context.
 */
export class EventConsumer<T> {
  private readonly consumer: Consumer;
  private readonly dlqProducer: Producer;
  private readonly policy: RetryPolicy;
  private readonly lagMonitor: ConsumerLagMonitor | undefined;
  private readonly deadLetters: DeadLetterCounter;
  /** Dead letters are sent one at a time: the producer is idempotent, and kafkajs's sequence numbers break under concurrent sends. */
  private dlqSends: Promise<unknown> = Promise.resolve();
  private abort = new AbortController();
  private running = false;
  private starting?: Promise<void>;
  private stopping = false;
  /** The last start() joined its group (stop() then drains in full; see stop). */
  private joined = false;

  constructor(private readonly options: EventConsumerOptions<T>) {
    if (!GROUP_ID.test(options.groupId)) {
      throw new Error(`consumer group "${options.groupId}" must look like <service>.<purpose>`);
    }
    if (!options.handler === !options.batchHandler)
      throw new Error(`consumer ${options.groupId} needs exactly one of handler and batchHandler`);
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.deadLetters = new DeadLetterCounter(options.meter);
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      ...(options.fetch ? { minBytes: options.fetch.minBytes, maxWaitTimeInMs: options.fetch.maxWaitMs } : {}),
    });
    this.dlqProducer = createProducer(options.kafka);
    this.lagMonitor =
      options.lagIntervalMs === 0
        ? undefined
        : new ConsumerLagMonitor({
            admin: options.kafka.admin(),
            groupId: options.groupId,
            topics: options.topics,
            logger: options.logger,
            intervalMs: options.lagIntervalMs,
            ...(options.meter ? { meter: options.meter } : {}),
          });
  }

  /** Connects, subscribes and starts handling; resolves once the consumer runs (not when it is done). */
  async start(): Promise<void> {
    this.stopping = false;
    this.joined = false;
    this.abort = new AbortController();
    await this.dlqProducer.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.options.topics, fromBeginning: this.options.fromBeginning ?? true });
    if (this.stopping) return;
    this.running = true;
    reportFatalCrashes(this.consumer, {
      groupId: this.options.groupId,
      topics: this.options.topics,
      logger: this.options.logger,
      active: () => this.running,
    });
    this.commitFilteredBatches();
    await this.consumer.run({
      autoCommit: true,
      ...(this.options.commitEvery ? { autoCommitThreshold: this.options.commitEvery } : {}),
      ...(this.options.partitionsConsumedConcurrently
        ? { partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently }
        : {}),
      ...(this.options.batchHandler
        ? { eachBatchAutoResolve: false, eachBatch: (payload: EachBatchPayload) => this.handleBatch(payload) }
        : { eachMessage: (payload: EachMessagePayload) => this.handle(payload) }),
    });
    this.joined = true; // kafkajs's run() resolves once the group is joined
    if (this.stopping) return; // joined only after stop() gave up waiting: no lag monitor for a member that leaves
    await this.lagMonitor?.start();
  }

  /**
   * Starts without holding the caller until the group is joined, for services whose readiness must not wait
   * on Kafka: after a `kill -9` the broker keeps the dead member until its session times out (~25-30 s) and a
   * new member's join waits for that; a restarted service still answers RPCs at once (issue #10: ready in
   * 25-29 s before, ~1-2 s now). A start that fails is logged and reported as a component failure (gRPC health
   * turns NOT_SERVING), as a consumer crash is.
   */
  startInBackground(): void {
    this.starting = this.start().catch((error: unknown) => {
      if (this.stopping) return;
      this.options.logger.error(
        { err: error, groupId: this.options.groupId, topics: this.options.topics },
        `consumer ${this.options.groupId} failed to start; nothing is consumed until the service restarts: check KAFKA_BROKERS and the broker, then restart`,
      );
      reportComponentFailure(`kafka consumer ${this.options.groupId}`, error instanceof Error ? error : new Error(String(error)));
    });
  }

  /**
   * Stops fetching, lets the message in hand finish (a pending backoff is cut short and that message
   * stays uncommitted), commits, and disconnects. Idempotent.
   */
  async stop(): Promise<void> {
    if (!this.running && !this.starting) return;
    this.stopping = true;
    this.running = false;
    this.abort.abort();
    await this.lagMonitor?.stop().catch(() => undefined);
    const starting = this.starting;
    this.starting = undefined;
    // A background start still joining: kafkajs's disconnect waits for the JoinGroup in flight, and when the broker
    // answers kafkajs starts fetching, hence the second disconnect once the start has ended.
    const left = this.consumer
      .disconnect()
      .then(() => starting)
      .then(() => this.consumer.disconnect());
    if (this.joined) await left;
    else {
      const waitMs = this.options.stopJoinWaitMs ?? 2_000;
      if (!(await Promise.race([left.then(() => true), sleep(waitMs, false)]))) {
        this.options.logger.warn(
          { groupId: this.options.groupId, waitedMs: waitMs },
          `consumer ${this.options.groupId} was still joining its group (the broker waits for a dead member's session to time out); stopping without it`,
        );
        void left.catch(() => undefined); // leaves when the join ends, should the process live on; handlers refuse work
      }
    }
    await this.dlqProducer.disconnect();
  }

  /**
   * A fetch that holds only a transaction's commit marker (or aborted records) reaches no handler; kafkajs resolves it
   * but commits it only when a commit threshold or interval is due, so without a per-message threshold the group
   * would stay one offset behind the log end (lag 1 on a transactional topic) until more data comes. Commit it here.
   */
  private commitFilteredBatches(): void {
    if (this.filteredListener) return;
    this.filteredListener = this.consumer.on(this.consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize !== 0 || !this.running) return;
      const offset = (BigInt(payload.lastOffset) + 1n).toString();
      this.consumer.commitOffsets([{ topic: payload.topic, partition: payload.partition, offset }]).catch((error: unknown) => {
        this.options.logger.debug(
          { err: error, topic: payload.topic, partition: payload.partition },
          'commit after a marker-only batch failed; the next batch commits',
        );
      });
    });
  }

  private filteredListener?: () => void;

  /** Resolves once the group has joined and partitions are assigned (useful in tests). */
  waitForAssignment(timeoutMs = 30_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('consumer group join timed out')), timeoutMs);
      const remove = this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
        clearTimeout(timer);
        remove();
        resolve();
      });
    });
  }

  /** Decodes a message; an undecodable one (or of a type not accepted) is dead-lettered at once and yields undefined. */
  private async decode(topic: string, partition: number, message: KafkaMessage): Promise<BatchItem<T> | undefined> {
    const ctx: MessageContext = {
      topic,
      partition,
      offset: message.offset,
      key: message.key?.toString('utf8'),
      headers: message.headers ?? {},
      attempt: 1,
      signal: this.abort.signal,
    };
    try {
      const envelope = decodeEnvelope(message.value);
      if (this.options.types && !this.options.types.includes(envelope.type)) {
        throw new PoisonMessageError(`unexpected event type ${envelope.type}`);
      }
      try {
        const decoded = this.options.codec.decode(envelope.data);
        return { envelope, decoded, ctx, trace: parentContext(ctx.headers, envelope) };
      } catch (error) {
        throw new PoisonMessageError(`payload is not a valid ${envelope.type}`, { cause: error });
      }
    } catch (error) {
      await this.deadLetter(ctx, message, 1, error);
      return undefined;
    }
  }

  private async handle({ topic, partition, message }: EachMessagePayload): Promise<void> {
    // A join that completed after stop() (see stop): throwing leaves the offset uncommitted for the group's next member.
    if (this.stopping) throw new Error(`consumer ${this.options.groupId} is stopping: message left for the next member`);
    const item = await this.decode(topic, partition, message);
    if (item) await this.handleOne(item, message);
  }

  /**
   * One fetched partition batch through `batchHandler` (see BatchHandler). Offsets are resolved only once the whole
   * batch is handled, so a stop or rebalance part-way re-delivers the batch (handlers are idempotent).
   */
  private async handleBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const batchHandler = this.options.batchHandler as BatchHandler<T>;
    const items: Array<BatchItem<T>> = [];
    const messages = new Map<BatchItem<T>, KafkaMessage>();
    for (const message of batch.messages) {
      if (!isRunning() || isStale() || this.stopping) return;
      const item = await this.decode(batch.topic, batch.partition, message);
      if (!item) continue;
      items.push(item);
      messages.set(item, message);
    }
    const last = batch.messages[batch.messages.length - 1];
    let revoked = false;
    if (items.length > 0) {
      // Per-message spans: each item's work runs under a CONSUMER span that is a child of its producer's span.
      const messageSpans = this.options.messageSpans ? items.map((item) => this.messageSpan(item, messages.get(item) as KafkaMessage)) : [];
      messageSpans.forEach((span, i) => {
        const item = items[i] as BatchItem<T>;
        item.trace = trace.setSpan(item.trace, span);
      });
      const span = this.options.messageSpans ? undefined : this.batchSpan(batch.topic, batch.partition, items);
      const spans = span ? [span] : messageSpans;
      await context.with(span ? trace.setSpan(context.active(), span) : context.active(), async () => {
        try {
          const outcome = await this.runBatchWithRetries(items, batchHandler);
          if (!outcome.ok && items.length === 1) {
            const only = items[0] as BatchItem<T>;
            await this.deadLetter(only.ctx, messages.get(only) as KafkaMessage, outcome.attempts, outcome.error);
          } else if (!outcome.ok) {
            for (const s of spans) s.addEvent('batch_fallback_one_by_one', { 'messaging.batch.message_count': items.length });
            // One by one, each with its own retries (a failing item may take seconds): every handled item's offset is
            // resolved and the group heartbeated as it goes, so a long fallback neither outlives the session (the
            // member evicted, the batch re-delivered from its start and its dead letters written twice) nor redoes work
            // after a rebalance. A revoked partition stops the loop; the rest goes to its new owner.
            for (const item of items) {
              if (this.abort.signal.aborted) throw new ConsumerStoppingError('consumer stopping; batch left uncommitted');
              if (!isRunning() || isStale()) {
                revoked = true;
                return;
              }
              const message = messages.get(item) as KafkaMessage;
              await context.with(item.trace, () => this.runWithRetries(item.ctx, message, item.envelope, item.decoded));
              resolveOffset(message.offset);
              await heartbeat();
            }
          }
        } catch (error) {
          for (const s of spans) markSpanFailed(s, error);
          throw error;
        } finally {
          for (const s of spans) s.end();
        }
      });
    }
    if (revoked) return;
    if (last) resolveOffset(last.offset);
    await heartbeat();
  }

  /** The batch handler with the retry policy; not ok when it gave up (poison, or attempts used up). */
  private async runBatchWithRetries(
    items: Array<BatchItem<T>>,
    batchHandler: BatchHandler<T>,
  ): Promise<{ ok: true } | { ok: false; attempts: number; error: unknown }> {
    const first = items[0] as BatchItem<T>;
    for (let attempt = 1; ; attempt++) {
      try {
        const bug = injectFault('kafka-consume', first.ctx.topic, handlerBug);
        if (bug) await bug;
        await batchHandler(items.map((it) => ({ ...it, ctx: { ...it.ctx, attempt } })));
        return { ok: true };
      } catch (error) {
        const decision = decideAfterFailure(this.policy, attempt, error);
        this.options.logger.warn(
          {
            err: error,
            topic: first.ctx.topic,
            partition: first.ctx.partition,
            fromOffset: first.ctx.offset,
            messages: items.length,
            attempt,
            decision: decision.action === 'dlq' ? (items.length === 1 ? 'dlq' : 'one-by-one') : decision.action,
          },
          'batch handler failed',
        );
        if (decision.action === 'dlq') return { ok: false, attempts: attempt, error };
        if (this.abort.signal.aborted) throw new ConsumerStoppingError('consumer stopping; batch left uncommitted');
        await (this.options.sleep ?? abortableSleep)(decision.delayMs, this.abort.signal);
      }
    }
  }

  /** One span for a fetched batch (a new trace), linked to up to MAX_BATCH_LINKS of its producers' spans. */
  private batchSpan(topic: string, partition: number, items: Array<BatchItem<T>>): Span {
    const links: Link[] = [];
    for (let i = items.length - 1; i >= 0 && links.length < MAX_BATCH_LINKS; i--) {
      const remote = trace.getSpanContext((items[i] as BatchItem<T>).trace);
      if (remote) links.push({ context: remote });
    }
    return tracer.startSpan(`process ${topic}`, {
      kind: SpanKind.CONSUMER,
      links,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.destination.name': topic,
        'messaging.destination.partition.id': String(partition),
        'messaging.consumer.group.name': this.options.groupId,
        'messaging.batch.message_count': items.length,
      },
    });
  }

  /** The CONSUMER span of one message, a child of its producer's span (`item.trace`). */
  private messageSpan({ envelope, ctx, trace: parent }: BatchItem<T>, message: KafkaMessage): Span {
    return tracer.startSpan(
      `process ${ctx.topic}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.operation.type': 'process',
          'messaging.destination.name': ctx.topic,
          'messaging.destination.partition.id': String(ctx.partition),
          'messaging.kafka.offset': Number(message.offset),
          'messaging.consumer.group.name': this.options.groupId,
          'messaging.message.id': envelope.id,
          'tessera.event.type': envelope.type,
        },
      },
      parent,
    );
  }

  private async handleOne(item: BatchItem<T>, message: KafkaMessage): Promise<void> {
    const { envelope, decoded, ctx: base, trace: parent } = item;
    const span = this.messageSpan(item, message);
    await context.with(trace.setSpan(parent, span), async () => {
      try {
        await this.runWithRetries(base, message, envelope, decoded);
      } catch (error) {
        markSpanFailed(span, error);
        throw error;
      } finally {
        span.end();
      }
    });
  }

  private async runWithRetries(base: MessageContext, message: KafkaMessage, envelope: EventEnvelope, decoded: T): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const ctx = { ...base, attempt };
        const bug = injectFault('kafka-consume', base.topic, handlerBug);
        if (bug) await bug;
        if (this.options.handler) await this.options.handler(envelope, decoded, ctx);
        else await (this.options.batchHandler as BatchHandler<T>)([{ envelope, decoded, ctx, trace: context.active() }]);
        return;
      } catch (error) {
        const decision = decideAfterFailure(this.policy, attempt, error);
        this.options.logger.warn(
          {
            err: error,
            topic: base.topic,
            partition: base.partition,
            offset: base.offset,
            eventId: envelope.id,
            attempt,
            decision: decision.action,
          },
          'event handler failed',
        );
        trace.getActiveSpan()?.addEvent('handler_failed', { attempt, 'error.type': (error as Error)?.name ?? 'Error' });
        if (decision.action === 'dlq') {
          await this.deadLetter(base, message, attempt, error);
          return;
        }
        if (this.abort.signal.aborted) throw new ConsumerStoppingError('consumer stopping; message left uncommitted');
        await (this.options.sleep ?? abortableSleep)(decision.delayMs, this.abort.signal);
      }
    }
  }

  /** Writes the message to `<topic>.dlq`; if that fails the error propagates and the offset is not committed. */
  private async deadLetter(base: MessageContext, message: KafkaMessage, attempts: number, error: unknown): Promise<void> {
    const dlq = dlqTopicFor(base.topic);
    const send = this.dlqSends.then(() =>
      this.dlqProducer.send({
        topic: dlq,
        acks: -1,
        messages: [
          deadLetterMessage(message, {
            topic: base.topic,
            partition: base.partition,
            offset: base.offset,
            attempts,
            groupId: this.options.groupId,
            error,
          }),
        ],
      }),
    );
    this.dlqSends = send.catch(() => undefined);
    await send;
    this.deadLetters.record(base.topic, this.options.groupId, failureReason(error).code);
    this.options.logger.error(
      { topic: base.topic, partition: base.partition, offset: base.offset, dlq, attempts, errorName: (error as Error)?.name },
      'message dead-lettered',
    );
  }
}

/**
 * The producer's context; when the kafkajs instrumentation already opened a consumer span for this
 * record in the same trace, nest under it instead of creating a sibling.
 */
function parentContext(headers: IHeaders, envelope: EventEnvelope): Context {
  const extracted = extractTraceContext(headers, envelope, context.active());
  const active = trace.getSpanContext(context.active());
  const remote = trace.getSpanContext(extracted);
  if (active && remote && active.traceId === remote.traceId) return context.active();
  return extracted;
}

async function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch {
    throw new ConsumerStoppingError('consumer stopping during backoff; message left uncommitted');
  }
}

/**
 * Stops the given components on SIGTERM/SIGINT, in order, then exits (0, or 1 if a stop failed).
 * Registering a signal listener replaces Node's default exit, so this helper must exit itself.
 */
/**
 * kafkajs restarts a crashed consumer only after a retriable error; after any other (a batch it cannot decompress,
 * a handler error it does not know) it stays stopped while the process carries on. This says so loudly and marks
 * the process broken (libs/telemetry liveness.ts): gRPC servers turn NOT_SERVING, workers exit (see their main.ts).
 * `active` false (the consumer is being stopped on purpose) ignores the crash.
 */
export function reportFatalCrashes(
  consumer: Consumer,
  options: { groupId: string; topics: string[]; logger: KafkaLogger; active: () => boolean },
): void {
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart || !options.active()) return;
    options.logger.error(
      { groupId: options.groupId, topics: options.topics, err: payload.error },
      `consumer ${options.groupId} stopped for good (kafkajs will not restart it after ${payload.error.name}); nothing is consumed until the service restarts: fix the cause, then restart`,
    );
    reportComponentFailure(`kafka consumer ${options.groupId}`, payload.error);
  });
}

export function stopOnSignals(
  stoppables: Array<{ stop?: () => Promise<void>; disconnect?: () => Promise<void> }>,
  logger: KafkaLogger,
  signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'],
): void {
  let stopping = false;
  const onSignal = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    let code = 0;
    for (const s of stoppables) {
      try {
        await (s.stop ?? s.disconnect)?.call(s);
      } catch (error) {
        code = 1;
        logger.error({ err: error }, 'shutdown step failed');
      }
    }
    process.exit(code === 0 ? Number(process.exitCode ?? 0) : code); // keeps an exit code set before the signal
  };
  for (const signal of signals) process.once(signal, (sig) => void onSignal(sig));
}
