import { promisify } from 'node:util';
import { constants as zlibConstants, zstdCompress, zstdDecompress } from 'node:zlib';
import {
  CompressionCodecs,
  CompressionTypes,
  Kafka,
  logLevel,
  Partitioners,
  type KafkaConfig,
  type LogEntry,
  type logCreator,
  type Producer,
  type ProducerConfig,
} from 'kafkajs';
import SnappyCodec from 'kafkajs-snappy';
import { kafkaSecurityFromEnv } from './kafka-security';

const compressZstd = promisify(zstdCompress);
const decompressZstd = promisify(zstdDecompress);

/**
 * zstd for kafkajs from Node's own zlib (Node >= 22.15; no native module), level 1: the stream processor's state
 * changelog (JSON window state, ~2 KB per window revision) shrinks ~5x for a fraction of the CPU the broker and the
 * wire spent on the bytes (issue #11). Compression runs on libuv's thread pool, off the event loop.
 */
export const ZstdCodec = () => ({
  compress: (encoder: { buffer: Buffer }): Promise<Buffer> =>
    compressZstd(encoder.buffer, { params: { [zlibConstants.ZSTD_c_compressionLevel]: 1 } }),
  decompress: (buffer: Buffer): Promise<Buffer> => decompressZstd(buffer),
});

/**
 * kafkajs decodes only uncompressed and gzip batches by itself; a snappy or zstd batch (franz-go's and several
 * clients' defaults) stops its consumer for good. Both are registered for every client of this process: snappy via
 * `kafkajs-snappy` (pure JS `snappyjs`), zstd via `ZstdCodec` above. lz4 would need a native module and is not:
 * producers that feed Node consumers must not use it (the Go processor produces uncompressed).
 */
CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec;
CompressionCodecs[CompressionTypes.ZSTD] = ZstdCodec;

/** The pino methods the Kafka libs use; any pino logger (or child) fits. */
export interface KafkaLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface CreateKafkaOptions {
  clientId: string;
  /** Defaults to KAFKA_BROKERS (comma separated), then 127.0.0.1:19092. */
  brokers?: string[];
  logger: KafkaLogger;
  /** Extra kafkajs settings (ssl, sasl, timeouts). */
  config?: Omit<KafkaConfig, 'clientId' | 'brokers' | 'logCreator' | 'logLevel'>;
  /** kafkajs's own verbosity; default INFO (its DEBUG is very chatty). */
  logLevel?: logLevel;
}

/** Parses KAFKA_BROKERS ("host:port,host:port"). */
export function brokersFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  const raw = env['KAFKA_BROKERS'] ?? '127.0.0.1:19092';
  return raw
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
}

/**
 * A kafkajs client whose own logs go through pino as structured lines, instead of kafkajs's
 * console JSON, so they carry the service and trace fields like every other log.
 */
export function createKafka(options: CreateKafkaOptions): Kafka {
  return new Kafka({
    // TLS and SASL from KAFKA_SECURITY_PROTOCOL & co. (kafka-security.ts); explicit `config` wins.
    ...kafkaSecurityFromEnv(),
    ...options.config,
    clientId: options.clientId,
    brokers: options.brokers ?? brokersFromEnv(),
    logLevel: options.logLevel ?? logLevel.INFO,
    logCreator: pinoLogCreator(options.logger),
  });
}

/**
 * kafkajs ERROR entries that are not the final word on a failure, so they are logged at WARN:
 * - the `Connection` namespace logs every failed request or socket at ERROR and then throws the same error to
 *   its caller: kafkajs's own retrier (e.g. `AddPartitionsToTxn` answered `CONCURRENT_TRANSACTIONS` between two
 *   back-to-back transactions, retried a few ms later; tulios/kafkajs#1315) or our code, which logs what it
 *   cannot recover from at ERROR itself;
 * - entries that carry `retryCount` are attempts that kafkajs retries (a give-up reaches the caller).
 * An ERROR line therefore means something failed for good, which is what alerts and the e2e log checks rely on.
 */
export function isRetriedKafkaError(namespace: string, extra: Record<string, unknown>): boolean {
  return namespace === 'Connection' || typeof extra['retryCount'] === 'number';
}

/** Maps kafkajs log entries onto pino levels; kafkajs's `message` becomes the line's `msg`. */
export function pinoLogCreator(logger: KafkaLogger): logCreator {
  return () => (entry: LogEntry) => {
    const {
      message,
      timestamp: _timestamp,
      logger: _name,
      ...extra
    } = entry.log as LogEntry['log'] & {
      logger?: string;
      [key: string]: unknown;
    };
    const fields = { kafka: { namespace: entry.namespace, ...extra } };
    switch (entry.level) {
      case logLevel.ERROR:
      case logLevel.NOTHING:
        if (isRetriedKafkaError(entry.namespace, extra)) logger.warn(fields, message);
        else logger.error(fields, message);
        break;
      case logLevel.WARN:
        logger.warn(fields, message);
        break;
      case logLevel.INFO:
        logger.info(fields, message);
        break;
      default:
        logger.debug(fields, message);
    }
  };
}

/**
 * A kafkajs producer with the platform's settings, for records that are already encoded (copies, replays, dead
 * letters, transactions); `EventProducer` builds on it for envelopes. Idempotent (no duplicates from the producer's own
 * retries; acks=all, the only value kafkajs allows with it), one request in flight (kafkajs tracks sequence numbers per
 * partition without re-ordering on retry), no topic auto-creation (topics come from infra/topology.yaml), and murmur2
 * keyed partitioning, the same as the Java and Go clients, so keys land alike whoever produces. `extra` adds e.g. a
 * `transactionalId`.
 */
export function createProducer(
  kafka: Kafka,
  extra: Omit<ProducerConfig, 'idempotent' | 'maxInFlightRequests' | 'allowAutoTopicCreation' | 'createPartitioner'> = {},
): Producer {
  return kafka.producer({
    ...extra,
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
}
