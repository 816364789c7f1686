import { metrics, type Meter, type ObservableGauge, type ObservableResult } from '@opentelemetry/api';
import type { Admin } from 'kafkajs';
import type { KafkaLogger } from './kafka.client';

export const CONSUMER_LAG_METRIC = 'messaging.kafka.consumer.lag';

export interface ConsumerLagMonitorOptions {
  admin: Admin;
  groupId: string;
  topics: string[];
  logger: KafkaLogger;
  /** Defaults to the global meter provider's `@tessera/kafka` meter. */
  meter?: Meter;
  /** How often offsets are fetched; default 15 s. */
  intervalMs?: number;
}

export interface PartitionLag {
  topic: string;
  partition: number;
  lag: number;
}

/**
 * Publishes `messaging.kafka.consumer.lag` (messages) per topic/partition for one consumer group:
 * log-end offset minus committed offset. Offsets are fetched on a timer and cached, because gauge
 * callbacks run on the metric reader's schedule and must not do network I/O.
 */
export class ConsumerLagMonitor {
  private lags: PartitionLag[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly gauge: ObservableGauge;
  private readonly callback = (result: ObservableResult) => {
    for (const { topic, partition, lag } of this.lags) {
      result.observe(lag, {
        'messaging.system': 'kafka',
        'messaging.consumer.group.name': this.options.groupId,
        'messaging.destination.name': topic,
        'messaging.destination.partition.id': String(partition),
      });
    }
  };

  constructor(private readonly options: ConsumerLagMonitorOptions) {
    const meter = options.meter ?? metrics.getMeter('@tessera/kafka');
    this.gauge = meter.createObservableGauge(CONSUMER_LAG_METRIC, {
      description: 'Messages between the log end and the committed offset of a consumer group',
      unit: '{message}',
    });
    this.gauge.addCallback(this.callback);
  }

  /** Connects the admin client and starts the refresh timer (first refresh immediately). */
  async start(): Promise<void> {
    await this.options.admin.connect();
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.options.intervalMs ?? 15_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.gauge.removeCallback(this.callback);
    await this.options.admin.disconnect();
  }

  /** The lag last computed, for logs and tests. */
  current(): readonly PartitionLag[] {
    return this.lags;
  }

  /** Recomputes lags; a failed fetch keeps the previous values and logs a warning. */
  async refresh(): Promise<void> {
    try {
      const { admin, groupId, topics } = this.options;
      const committed = await admin.fetchOffsets({ groupId, topics });
      const next: PartitionLag[] = [];
      for (const topic of topics) {
        const ends = await admin.fetchTopicOffsets(topic);
        const groupTopic = committed.find((c) => c.topic === topic);
        for (const end of ends) {
          const commit = groupTopic?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
          next.push({ topic, partition: end.partition, lag: computeLag(end.high, end.low, commit) });
        }
      }
      this.lags = next;
    } catch (error) {
      this.options.logger.warn({ err: error, groupId: this.options.groupId }, 'consumer lag refresh failed');
    }
  }
}

/** High watermark minus committed offset; a group that never committed lags by the whole retained log. */
export function computeLag(high: string, low: string, committed: string): number {
  const end = Number(high);
  const from = Number(committed) >= 0 ? Number(committed) : Number(low);
  return Math.max(0, end - from);
}
