import { context, SpanKind, trace, type Span } from '@opentelemetry/api';
import { injectFault, markSpanFailed } from '@tessera/telemetry';
import { suppressTracing } from '@opentelemetry/core';
import {
  type Kafka,
  type Message,
  type Offsets,
  type Producer,
  type RecordMetadata,
  type Transaction,
  KafkaJSConnectionError,
} from 'kafkajs';
import { buildEnvelope, encodeEnvelope, envelopeHeaders, type EventEnvelope, type EventInput } from './envelope';
import { createProducer, type KafkaLogger } from './kafka.client';
import { extractTraceContext, injectTraceContext } from './trace-headers';

const tracer = trace.getTracer('@tessera/kafka');

export interface EventProducerOptions {
  kafka: Kafka;
  /** Service name written to every envelope's `source`. */
  source: string;
  logger: KafkaLogger;
  /**
   * Enables transactions (exactly-once read-process-write with {@link EventProducer.transaction}).
   * Must be stable per logical producer instance so the broker can fence a zombie predecessor.
   */
  transactionalId?: string;
}

/** The error of the `kafka-produce` fault (issue #14 fault toggles): what kafkajs throws when the broker connection drops. */
function brokerDropped(): Error {
  return new KafkaJSConnectionError('fault injected: broker connection dropped (npm run infra -- faults)');
}
/** A record as handed to Kafka, plus the envelope it carries (useful for logs and tests). */
export interface PreparedEvent {
  topic: string;
  envelope: EventEnvelope;
  message: Message;
}

/** An envelope built earlier (e.g. stored in an outbox) to publish as is, under its partition key. */
export interface StoredEvent {
  key: string;
  envelope: EventEnvelope;
}

/** Publishing inside a Kafka transaction; offsets sent here commit atomically with the records. */
export interface EventTransaction {
  publish<T>(topic: string, event: EventInput<T>): Promise<EventEnvelope>;
  /** Commits the consumer group's offsets as part of this transaction (read-process-write). */
  sendOffsets(groupId: string, offsets: Offsets['topics']): Promise<void>;
}

/**
 * Publishes protobuf events wrapped in `commonV1.EventEnvelope`.
 *
 * Choices: idempotent (no duplicates from the producer's own retries) with acks=all (the default
 * and the only value kafkajs allows with idempotence), one request in flight because kafkajs
 * tracks sequence numbers per partition without re-ordering on retry, and calls serialised here
 * for the same reason: concurrent sends on one idempotent kafkajs producer can trip
 * OUT_OF_ORDER_SEQUENCE_NUMBER. `publishBatch` is the way to throughput. Promises resolve only
 * after the broker acknowledged the write, so callers (e.g. the outbox relay) may mark work done.
 */
export class EventProducer {
  private producer: Producer;
  private queue: Promise<unknown> = Promise.resolve();
  private connected = false;

  constructor(private readonly options: EventProducerOptions) {
    this.producer = this.newProducer();
  }

  private newProducer(): Producer {
    return createProducer(this.options.kafka, this.options.transactionalId ? { transactionalId: this.options.transactionalId } : {});
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  /**
   * Waits for queued publishes, then disconnects; the next connect() starts a fresh kafkajs producer. kafkajs keeps an
   * idempotent producer's id and sequence numbers across disconnect/connect, and a send that failed with its retries
   * used up (a broker killed mid-request) leaves them out of step with the broker: every later send then fails with
   * OUT_OF_ORDER_SEQUENCE_NUMBER, for good (the chaos broker-loss scenario, issue #14). A new producer gets a new id.
   */
  async disconnect(): Promise<void> {
    await this.queue.catch(() => undefined);
    if (this.connected) await this.producer.disconnect();
    this.connected = false;
    this.producer = this.newProducer();
  }

  /** Publishes one event and resolves with its envelope after the broker ack. */
  async publish<T>(topic: string, event: EventInput<T>): Promise<EventEnvelope> {
    const [envelope] = await this.publishBatch(topic, [event]);
    if (!envelope) throw new Error('publishBatch returned no envelope');
    return envelope;
  }

  /** Publishes several events to one topic in a single produce request; all or none are acked. */
  publishBatch(topic: string, events: EventInput[]): Promise<EventEnvelope[]> {
    return this.serialise(() =>
      this.withPublishSpan(topic, events.length, async () => {
        const prepared = events.map((event) => this.prepare(topic, event));
        await injectFault('kafka-produce', topic, brokerDropped);
        const metadata = await this.producer.send({ topic, acks: -1, messages: prepared.map((p) => p.message) });
        this.options.logger.debug({ topic, count: events.length, metadata: summarise(metadata) }, 'events published');
        return prepared.map((p) => p.envelope);
      }),
    );
  }

  /**
   * Publishes envelopes that were built earlier, keeping their id, time and traceparent, in one
   * produce request; resolves after the broker acked all of them. Each gets its own PRODUCER span
   * whose parent is the envelope's stored traceparent, so a relayed event continues the trace of the
   * request that created it, and its `traceparent` header points at that span. The send itself runs
   * with tracing suppressed so the kafkajs instrumentation neither adds a span per message nor
   * overwrites those headers with the relay's (unrelated) context.
   */
  publishEnvelopes(topic: string, events: StoredEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    return this.serialise(async () => {
      const spans: Span[] = [];
      const messages: Message[] = events.map(({ key, envelope }) => {
        const parent = extractTraceContext(undefined, envelope, context.active());
        const span = tracer.startSpan(
          `publish ${topic}`,
          {
            kind: SpanKind.PRODUCER,
            attributes: {
              'messaging.system': 'kafka',
              'messaging.operation.type': 'send',
              'messaging.destination.name': topic,
              'messaging.message.id': envelope.id,
              'messaging.batch.message_count': events.length,
            },
          },
          parent,
        );
        spans.push(span);
        const headers = envelopeHeaders(envelope);
        Object.assign(headers, injectTraceContext(trace.setSpan(parent, span)));
        return { key, value: encodeEnvelope(envelope), headers, timestamp: String((envelope.time ?? new Date()).getTime()) };
      });
      try {
        await injectFault('kafka-produce', topic, brokerDropped);
        const metadata = await context.with(suppressTracing(context.active()), () => this.producer.send({ topic, acks: -1, messages }));
        this.options.logger.debug({ topic, count: events.length, metadata: summarise(metadata) }, 'stored events published');
      } catch (error) {
        for (const span of spans) {
          markSpanFailed(span, error);
        }
        throw error;
      } finally {
        for (const span of spans) span.end();
      }
    });
  }

  /**
   * Runs `work` inside a Kafka transaction: publishes and offsets commit together, or on a thrown
   * error are aborted (consumers reading `read_committed` never see them). Requires `transactionalId`.
   */
  transaction<R>(work: (tx: EventTransaction) => Promise<R>): Promise<R> {
    if (!this.options.transactionalId) {
      return Promise.reject(new Error('EventProducer.transaction() requires a transactionalId'));
    }
    return this.serialise(async () => {
      const tx: Transaction = await this.producer.transaction();
      const api: EventTransaction = {
        publish: (topic, event) =>
          this.withPublishSpan(topic, 1, async () => {
            const prepared = this.prepare(topic, event);
            await tx.send({ topic, acks: -1, messages: [prepared.message] });
            return prepared.envelope;
          }),
        sendOffsets: (consumerGroupId, topics) => tx.sendOffsets({ consumerGroupId, topics }),
      };
      try {
        const result = await work(api);
        await tx.commit();
        return result;
      } catch (error) {
        await tx.abort().catch((abortError: unknown) => this.options.logger.error({ err: abortError }, 'kafka transaction abort failed'));
        throw error;
      }
    });
  }

  /** Envelope + record for an event, with the trace context of the active span. */
  prepare(topic: string, event: EventInput): PreparedEvent {
    const envelope = buildEnvelope(event, this.options.source, injectTraceContext());
    const message: Message = {
      key: event.key ?? event.subject,
      value: encodeEnvelope(envelope),
      headers: envelopeHeaders(envelope, event.headers),
      timestamp: String((event.time ?? envelope.time ?? new Date()).getTime()),
    };
    return { topic, envelope, message };
  }

  private serialise<R>(task: () => Promise<R>): Promise<R> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** A PRODUCER span around the send so the envelope's traceparent points at the publish itself. */
  private withPublishSpan<R>(topic: string, count: number, fn: () => Promise<R>): Promise<R> {
    const span = tracer.startSpan(`publish ${topic}`, {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'send',
        'messaging.destination.name': topic,
        'messaging.batch.message_count': count,
      },
    });
    return context.with(trace.setSpan(context.active(), span), async () => {
      try {
        return await fn();
      } catch (error) {
        markSpanFailed(span, error);
        throw error;
      } finally {
        span.end();
      }
    });
  }
}

function summarise(metadata: RecordMetadata[]): string {
  return metadata.map((m) => `${m.topicName}/${m.partition}@${m.baseOffset ?? '?'}`).join(',');
}
