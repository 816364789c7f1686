import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { createKafka, EventProducer } from '@tessera/kafka';
import { createLogger } from '@tessera/telemetry';
import type { Admin, Kafka } from 'kafkajs';
import { type IngestConfig, INGEST_CONFIG } from '../config';

/**
 * The service's one Kafka connection: an idempotent EventProducer plus an admin client that probes the
 * broker and the raw topic. Boot does not fail when Kafka is down: the service starts NOT_SERVING, answers
 * UNAVAILABLE, and connects as soon as a probe succeeds, so a Kafka outage never needs an ingest restart.
 */
@Injectable()
export class KafkaLink implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = createLogger('KafkaLink');
  private readonly kafka: Kafka;
  readonly producer: EventProducer;
  private readonly admin: Admin;
  private producerConnected = false;
  private up = false;
  private timer?: NodeJS.Timeout;
  private probing?: Promise<boolean>;
  /** The last connect/metadata attempt; it outlives a timed-out probe, so shutdown waits for it. */
  private attempt?: Promise<void>;
  private readonly listeners = new Set<(up: boolean) => void>();

  constructor(@Inject(INGEST_CONFIG) private readonly config: IngestConfig) {
    const kafkaLogger = createLogger('kafkajs');
    this.kafka = createKafka({
      clientId: 'ingest',
      brokers: config.KAFKA_BROKERS,
      logger: kafkaLogger,
      // Short retries: a call waits at most INGEST_PUBLISH_TIMEOUT_MS anyway, and a stuck send holds a slot.
      config: { connectionTimeout: 1000, requestTimeout: 10_000, retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 } },
    });
    this.producer = new EventProducer({ kafka: this.kafka, source: 'ingest', logger: kafkaLogger });
    this.admin = this.kafka.admin();
  }

  /** Whether the last probe (or publish) found Kafka reachable with the raw topic present. */
  get isUp(): boolean {
    return this.up;
  }

  onChange(listener: (up: boolean) => void): void {
    this.listeners.add(listener);
  }

  async onModuleInit(): Promise<void> {
    await this.probe();
    this.timer = setInterval(() => void this.probe(), this.config.INGEST_KAFKA_PROBE_MS);
    this.timer.unref();
  }

  /** Checks the broker answers metadata for the raw topic, connecting the producer the first time it does. */
  probe(): Promise<boolean> {
    this.probing ??= this.runProbe().finally(() => (this.probing = undefined));
    return this.probing;
  }

  /** A publish failure is fresher news than the last probe. */
  reportFailure(): void {
    this.setUp(false);
  }

  private async runProbe(): Promise<boolean> {
    let ok = false;
    try {
      this.attempt = (async () => {
        await this.admin.connect();
        await this.admin.fetchTopicMetadata({ topics: [this.config.INGEST_RAW_TOPIC] });
        if (!this.producerConnected) {
          await this.producer.connect();
          this.producerConnected = true;
        }
      })();
      await withTimeout(this.attempt, Math.max(this.config.INGEST_KAFKA_PROBE_MS, 3000));
      ok = true;
    } catch (error) {
      if (this.up) this.logger.warn({ err: error, topic: this.config.INGEST_RAW_TOPIC }, 'kafka probe failed');
    }
    this.setUp(ok);
    return ok;
  }

  private setUp(up: boolean): void {
    if (up === this.up) return;
    this.up = up;
    this.logger.info({ up }, up ? 'kafka reachable' : 'kafka unreachable');
    for (const listener of this.listeners) listener(up);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.probing?.catch(() => undefined);
    await this.attempt?.catch(() => undefined);
    await Promise.allSettled([this.producer.disconnect(), this.admin.disconnect()]);
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
