import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, randomUUID, sign, verify } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { defaultAuthDir } from '@tessera/auth';
import { AppError } from '@tessera/errors';
import { createKafka, createProducer } from '@tessera/kafka';
import { createLogger } from '@tessera/telemetry';
import type { Kafka, Producer } from 'kafkajs';
import { type TransactionsConfig, TRANSACTIONS_CONFIG } from '../config';
import { PrismaService } from '../platform/prisma.provider';

/** The chain's head at one moment: seq and hash of its newest record. */
export interface Checkpoint {
  seq: string;
  hash: string;
  at: string;
}

export interface SignedCheckpoint extends Checkpoint {
  v: 1;
  /** Ed25519 signature (base64) of `checkpointBytes`. */
  sig: string;
}

/** What a checkpoint found wrong with the chain in the database: the seq to look at and why. */
export interface CheckpointFinding {
  seq: bigint;
  reason: string;
}

/** The signed bytes: a fixed domain string, so a signature of this key means nothing anywhere else. */
export function checkpointBytes(c: Checkpoint): Buffer {
  return Buffer.from(`tessera.audit.checkpoint.v1|${c.seq}|${c.hash}|${c.at}`, 'utf8');
}

export function signCheckpoint(c: Checkpoint, key: KeyObject): SignedCheckpoint {
  return { v: 1, ...c, sig: sign(null, checkpointBytes(c), key).toString('base64') };
}

export function checkpointSignatureValid(c: SignedCheckpoint, publicKey: KeyObject): boolean {
  try {
    return c.v === 1 && verify(null, checkpointBytes(c), publicKey, Buffer.from(c.sig, 'base64'));
  } catch {
    return false;
  }
}

/**
 * A record of the checkpoint topic as a signed checkpoint, or undefined when it is not one (not JSON, or fields missing
 * or of the wrong type). Only this service's key can make a valid one; anything else on the anchor is a finding.
 */
export function parseCheckpoint(value: Buffer | null): SignedCheckpoint | undefined {
  let c: unknown;
  try {
    c = JSON.parse(value?.toString('utf8') ?? '');
  } catch {
    return undefined;
  }
  const o = c as Record<string, unknown> | null;
  const ok =
    typeof o === 'object' &&
    o !== null &&
    o['v'] === 1 &&
    typeof o['seq'] === 'string' &&
    /^\d{1,19}$/.test(o['seq']) &&
    typeof o['hash'] === 'string' &&
    typeof o['at'] === 'string' &&
    typeof o['sig'] === 'string';
  return ok ? (o as unknown as SignedCheckpoint) : undefined;
}

/**
 * The newest checkpoint held against the chain in the database: its record must still be there with the same hash.
 * `recordHash` is the stored hash at the checkpoint's seq (undefined: no such record), `headSeq` the chain's newest.
 */
export function checkpointFinding(
  c: SignedCheckpoint,
  publicKey: KeyObject,
  recordHash: string | undefined,
  headSeq: bigint,
): CheckpointFinding | undefined {
  const seq = BigInt(c.seq);
  if (!checkpointSignatureValid(c, publicKey))
    return { seq, reason: "the newest audit checkpoint is not signed by this service's checkpoint key" };
  if (recordHash === undefined)
    return {
      seq,
      reason: `truncated: record ${c.seq} of the signed checkpoint taken at ${c.at} is missing (the chain ends at ${headSeq})`,
    };
  if (recordHash !== c.hash) return { seq, reason: `rewritten: record ${c.seq} differs from its signed checkpoint taken at ${c.at}` };
  return undefined;
}

/** The checkpoint key: the configured file, or (outside production) a dev key created on first use, mode 0600. */
export function loadCheckpointKey(
  config: Pick<TransactionsConfig, 'TRANSACTIONS_AUDIT_CHECKPOINT_KEY_FILE' | 'NODE_ENV'>,
  authDir = process.env['TESSERA_AUTH_DIR'] || defaultAuthDir(),
): KeyObject {
  const configured = config.TRANSACTIONS_AUDIT_CHECKPOINT_KEY_FILE;
  if (config.NODE_ENV === 'production' && !configured)
    throw new Error(
      'TRANSACTIONS_AUDIT_CHECKPOINT_KEY_FILE is required in production (an Ed25519 PKCS#8 PEM the database user cannot read)',
    );
  const file = configured ?? join(authDir, 'audit-checkpoint.pem');
  if (!existsSync(file)) {
    // A missing key is created once where it was asked for (docker-compose: a volume; dev: .tessera/auth). Keep it: a
    // new key disowns the checkpoints already published, which the verify then reports.
    mkdirSync(dirname(file), { recursive: true });
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  }
  const key = createPrivateKey(readFileSync(file));
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${file} is a ${key.asymmetricKeyType} key; audit checkpoints need Ed25519`);
  return key;
}

/**
 * Anchors the audit chain outside the database (issue #13): every TRANSACTIONS_AUDIT_CHECKPOINT_MS, when the chain grew,
 * its head (seq, hash) is signed with a key the database user cannot read and published to a Kafka topic kept forever.
 * The chain's own hashes find an edit or a deletion in the middle; only an anchor finds the newest records removed, the
 * whole chain re-hashed or the table emptied: `check` holds the newest checkpoint against the database.
 *
 * A checkpoint is never published for a seq at or below the newest one on the topic (read at start): otherwise
 * "truncate, then restart the service" would anchor the truncated head. Not transactional with the records: a
 * checkpoint covers only committed records, and the newest ones are anchored at the next tick.
 */
@Injectable()
export class AuditCheckpoints implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = createLogger('AuditCheckpoints');
  private readonly enabled: boolean;
  private readonly topic: string;
  private readonly kafka: Kafka | undefined;
  private key: KeyObject | undefined;
  private publicKey: KeyObject | undefined;
  private producer: Producer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private published: bigint | undefined;
  private running: Promise<void> | undefined;

  constructor(
    @Inject(TRANSACTIONS_CONFIG) private readonly config: TransactionsConfig,
    private readonly prisma: PrismaService,
  ) {
    this.enabled = config.TRANSACTIONS_AUDIT_CHECKPOINT_MS > 0;
    this.topic = config.TRANSACTIONS_AUDIT_CHECKPOINT_TOPIC;
    if (!this.enabled) return;
    this.key = loadCheckpointKey(config);
    this.publicKey = createPublicKey(this.key);
    this.kafka = createKafka({
      clientId: 'transactions-audit-checkpoints',
      brokers: config.KAFKA_BROKERS,
      logger: this.logger,
      config: { connectionTimeout: 3000, requestTimeout: 10_000, retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 2000 } },
    });
  }

  onApplicationBootstrap(): void {
    if (!this.enabled) return;
    this.timer = setInterval(() => void this.tick(), this.config.TRANSACTIONS_AUDIT_CHECKPOINT_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
  }

  /** One round: publish the head if it moved past the newest checkpoint. Failures are logged and retried next tick. */
  tick(): Promise<void> {
    this.running ??= this.publishHead()
      .catch((err: unknown) => this.logger.warn({ err }, 'audit checkpoint not published; retrying at the next tick'))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private async publishHead(): Promise<void> {
    const kafka = this.kafka;
    const key = this.key;
    if (!kafka || !key) return;
    if (!this.producer) {
      await this.ensureTopic(kafka);
      const producer = createProducer(kafka);
      await producer.connect();
      this.producer = producer;
    }
    this.published ??= BigInt(parseCheckpoint((await this.newest())?.value ?? null)?.seq ?? '0');
    const head = await this.head();
    if (!head || BigInt(head.seq) <= this.published) return;
    const signed = signCheckpoint({ seq: head.seq, hash: head.hash, at: new Date().toISOString() }, key);
    await this.producer.send({ topic: this.topic, acks: -1, messages: [{ key: 'head', value: JSON.stringify(signed) }] });
    this.published = BigInt(head.seq);
  }

  /**
   * The newest checkpoint held against the database; undefined when consistent, when checkpoints are off or none was
   * published yet. @throws AppError UNAVAILABLE when the checkpoints cannot be read (the verdict would be unfounded).
   */
  async check(): Promise<CheckpointFinding | undefined> {
    if (!this.enabled || !this.publicKey) return undefined;
    let record: { value: Buffer | null; offset: string } | undefined;
    try {
      record = await this.newest();
    } catch (err) {
      throw new AppError({
        code: 'PAYMENTS.AUDIT_CHECKPOINTS_UNAVAILABLE',
        kind: 'UNAVAILABLE',
        message: 'The audit checkpoints cannot be read from Kafka; retry later',
        cause: err,
      });
    }
    if (!record) return undefined;
    // Something other than this service wrote the newest record of the anchor (issue #14 scenario 5): the anchor cannot
    // vouch for the chain, which is a finding for the auditor, not an outage (retrying would not change it).
    const newest = parseCheckpoint(record.value);
    if (!newest)
      return {
        seq: 0n,
        reason: `the newest record of ${this.topic} (offset ${record.offset}, ${record.value?.length ?? 0} bytes) is not a signed audit checkpoint`,
      };
    const { rows } = await this.prisma.pool.query<{ hash: string | null; head: string | null }>(
      'SELECT (SELECT hash FROM audit_records WHERE seq = $1) AS hash, (SELECT max(seq)::text FROM audit_records) AS head',
      [newest.seq],
    );
    return checkpointFinding(newest, this.publicKey, rows[0]?.hash ?? undefined, BigInt(rows[0]?.head ?? '0'));
  }

  private async head(): Promise<{ seq: string; hash: string } | undefined> {
    const { rows } = await this.prisma.pool.query<{ seq: string; hash: string }>(
      'SELECT seq::text AS seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1',
    );
    return rows[0];
  }

  private async ensureTopic(kafka: Kafka): Promise<void> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      if (!(await admin.listTopics()).includes(this.topic)) {
        await admin.createTopics({
          topics: [{ topic: this.topic, numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '-1' }] }],
        });
      }
    } finally {
      await admin.disconnect();
    }
  }

  /** The last record of the topic's single partition, read by a throwaway consumer group (deleted afterwards). */
  private async newest(): Promise<{ value: Buffer | null; offset: string } | undefined> {
    const kafka = this.kafka;
    if (!kafka) return undefined;
    const admin = kafka.admin();
    await admin.connect();
    const groupId = `transactions.audit-checkpoint-reader-${randomUUID()}`;
    try {
      if (!(await admin.listTopics()).includes(this.topic)) return undefined;
      const partition = (await admin.fetchTopicOffsets(this.topic)).find((p) => p.partition === 0);
      if (!partition || BigInt(partition.high) <= BigInt(partition.low)) return undefined;
      const last = BigInt(partition.high) - 1n;
      const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
      await consumer.connect();
      try {
        await consumer.subscribe({ topic: this.topic, fromBeginning: true });
        const value = await new Promise<Buffer | null>((resolve, reject) => {
          const timeout = setTimeout(() => reject(new Error(`no checkpoint read from ${this.topic} within 15 s`)), 15_000);
          void consumer
            .run({
              eachMessage: async ({ message }) => {
                if (BigInt(message.offset) >= last) {
                  clearTimeout(timeout);
                  resolve(message.value);
                }
              },
            })
            .then(() => consumer.seek({ topic: this.topic, partition: 0, offset: last.toString() }), reject);
        });
        return { value, offset: last.toString() };
      } finally {
        await consumer.disconnect().catch(() => undefined);
      }
    } finally {
      await admin.deleteGroups([groupId]).catch(() => undefined);
      await admin.disconnect();
    }
  }
}
