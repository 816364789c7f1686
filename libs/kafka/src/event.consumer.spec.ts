import { clearComponentFailures, clearFaults, componentFailures, setFault } from '@tessera/telemetry';
import type { Kafka } from 'kafkajs';
import { EventConsumer } from './event.consumer';
import { buildEnvelope, encodeEnvelope } from './envelope';

/** Just enough of kafkajs for start(): a consumer whose CRASH listener the test can fire. */
function fakeKafka() {
  const listeners = new Map<string, (event: { payload: { error: Error; groupId: string; restart: boolean } }) => void>();
  const consumer = {
    events: { CRASH: 'consumer.crash', GROUP_JOIN: 'consumer.group_join' },
    on: (event: string, listener: never) => {
      listeners.set(event, listener);
      return () => listeners.delete(event);
    },
    connect: async () => undefined,
    subscribe: async () => undefined,
    run: async () => undefined,
    disconnect: async () => undefined,
  };
  const producer = { connect: async () => undefined, disconnect: async () => undefined };
  const kafka = { consumer: () => consumer, producer: () => producer } as unknown as Kafka;
  const crash = (error: Error, restart: boolean) =>
    listeners.get('consumer.crash')?.({ payload: { error, groupId: 'test.crash', restart } });
  return { kafka, crash };
}

function logger() {
  const errors: string[] = [];
  const noop = () => undefined;
  return { errors, logger: { debug: noop, info: noop, warn: noop, error: (_o: object, msg?: string) => void errors.push(msg ?? '') } };
}

afterEach(() => clearComponentFailures());

describe('EventConsumer after a kafkajs crash', () => {
  const options = (kafka: Kafka, log: ReturnType<typeof logger>['logger']) => ({
    kafka,
    groupId: 'test.crash',
    topics: ['t'],
    codec: { encode: (b: Uint8Array) => ({ finish: () => b }), decode: (b: Uint8Array) => b },
    handler: async () => undefined,
    logger: log,
    lagIntervalMs: 0,
  });

  it('marks the process broken and says what to do when kafkajs will not restart the consumer', async () => {
    const { kafka, crash } = fakeKafka();
    const log = logger();
    await new EventConsumer(options(kafka, log.logger)).start();
    crash(Object.assign(new Error('Snappy compression not implemented'), { name: 'KafkaJSNotImplemented' }), false);
    expect(componentFailures().map((f) => [f.component, f.error.message])).toEqual([
      ['kafka consumer test.crash', 'Snappy compression not implemented'],
    ]);
    expect(log.errors).toEqual([expect.stringMatching(/^consumer test\.crash stopped for good .*KafkaJSNotImplemented.*restart/)]);
  });

  it('leaves a crash kafkajs restarts from, and a crash while stopping, to kafkajs', async () => {
    const { kafka, crash } = fakeKafka();
    const log = logger();
    const consumer = new EventConsumer(options(kafka, log.logger));
    await consumer.start();
    crash(new Error('The coordinator is loading'), true);
    await consumer.stop();
    crash(new Error('disconnected'), false);
    expect(componentFailures()).toEqual([]);
    expect(log.errors).toEqual([]);
  });
});

describe('EventConsumer with partitions handled at once', () => {
  it('passes the setting to kafkajs and sends the dead letters of concurrent batches one at a time', async () => {
    let runConfig: { partitionsConsumedConcurrently?: number; eachBatch?: (payload: unknown) => Promise<void> } = {};
    let inFlight = 0;
    let maxInFlight = 0;
    const sent: string[] = [];
    const consumer = {
      events: { CRASH: 'consumer.crash', GROUP_JOIN: 'consumer.group_join', END_BATCH_PROCESS: 'consumer.end_batch_process' },
      on: () => () => undefined,
      connect: async () => undefined,
      subscribe: async () => undefined,
      run: async (config: typeof runConfig) => {
        runConfig = config;
      },
      disconnect: async () => undefined,
    };
    const producer = {
      connect: async () => undefined,
      disconnect: async () => undefined,
      // An idempotent kafkajs producer breaks its sequence numbers under concurrent sends: the consumer must never overlap them.
      send: async ({ messages }: { messages: Array<{ headers?: Record<string, unknown> }> }) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 20));
        sent.push(String(messages[0]?.headers?.['tessera-dlq-source-partition'] ?? messages.length));
        inFlight--;
      },
    };
    const kafka = { consumer: () => consumer, producer: () => producer } as unknown as Kafka;
    const noop = () => undefined;
    const ec = new EventConsumer({
      kafka,
      groupId: 'test.concurrent',
      topics: ['t'],
      codec: { encode: (b: Uint8Array) => ({ finish: () => b }), decode: (b: Uint8Array) => b },
      batchHandler: async () => undefined,
      partitionsConsumedConcurrently: 3,
      logger: { debug: noop, info: noop, warn: noop, error: noop },
      lagIntervalMs: 0,
    });
    await ec.start();
    expect(runConfig.partitionsConsumedConcurrently).toBe(3);
    // Undecodable messages (not an envelope) are dead-lettered at once; three partitions' batches arrive together.
    const batch = (partition: number) => ({
      batch: {
        topic: 't',
        partition,
        messages: [{ offset: '0', key: null, value: Buffer.from('not an envelope'), headers: {}, timestamp: '0', attributes: 0 }],
      },
      resolveOffset: noop,
      heartbeat: async () => undefined,
      isRunning: () => true,
      isStale: () => false,
    });
    await Promise.all([0, 1, 2].map((p) => runConfig.eachBatch?.(batch(p))));
    expect(sent).toHaveLength(3);
    expect(maxInFlight).toBe(1);
  });
});

describe('EventConsumer under the kafka-consume fault toggle', () => {
  afterEach(() => clearFaults());

  it('fails the handler as a bug would: retried, then dead-lettered with FAULTS.INJECTED; switched off, the handler runs', async () => {
    let eachMessage: ((payload: unknown) => Promise<void>) | undefined;
    const consumer = {
      events: { CRASH: 'consumer.crash', GROUP_JOIN: 'consumer.group_join' },
      on: () => () => undefined,
      connect: async () => undefined,
      subscribe: async () => undefined,
      run: async (config: { eachMessage?: (payload: unknown) => Promise<void> }) => {
        eachMessage = config.eachMessage;
      },
      disconnect: async () => undefined,
    };
    const letters: Array<Record<string, unknown>> = [];
    const producer = {
      connect: async () => undefined,
      disconnect: async () => undefined,
      send: async ({ messages }: { messages: Array<{ headers?: Record<string, unknown> }> }) => {
        letters.push(...messages.map((m) => m.headers ?? {}));
      },
    };
    const kafka = { consumer: () => consumer, producer: () => producer } as unknown as Kafka;
    const handled: string[] = [];
    const noop = () => undefined;
    const ec = new EventConsumer<Uint8Array>({
      kafka,
      groupId: 'test.fault',
      topics: ['payments.t'],
      codec: { encode: (b: Uint8Array) => ({ finish: () => b }), decode: (b: Uint8Array) => b },
      handler: async (envelope) => void handled.push(envelope.id),
      retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2 },
      logger: { debug: noop, info: noop, warn: noop, error: noop },
      lagIntervalMs: 0,
    });
    await ec.start();
    const message = (id: string) => ({
      topic: 'payments.t',
      partition: 0,
      message: {
        offset: '0',
        key: null,
        value: Buffer.from(encodeEnvelope(buildEnvelope({ id, type: 'test.Event', subject: id, data: new Uint8Array([1]) }, 'test', {}))),
        headers: {},
        timestamp: '0',
        attributes: 0,
      },
    });
    setFault('kafka-consume', { errorRate: 1, match: 'payments.' }, {});
    await eachMessage?.(message('broken'));
    expect(handled).toEqual([]);
    expect(letters).toHaveLength(1);
    expect(String(letters[0]?.['dlq-error-code'])).toBe('FAULTS.INJECTED');
    expect(String(letters[0]?.['dlq-attempts'])).toBe('3');
    setFault('kafka-consume', undefined, {});
    await eachMessage?.(message('fixed'));
    expect(handled).toEqual(['fixed']);
    await ec.stop();
  });
});

describe('EventConsumer falling back to one message at a time', () => {
  function batchConsumer(stale: (calls: number) => boolean) {
    let eachBatch: ((payload: unknown) => Promise<void>) | undefined;
    const consumer = {
      events: { CRASH: 'consumer.crash', GROUP_JOIN: 'consumer.group_join', END_BATCH_PROCESS: 'consumer.end_batch_process' },
      on: () => () => undefined,
      connect: async () => undefined,
      subscribe: async () => undefined,
      run: async (config: { eachBatch?: (payload: unknown) => Promise<void> }) => {
        eachBatch = config.eachBatch;
      },
      disconnect: async () => undefined,
    };
    const producer = { connect: async () => undefined, disconnect: async () => undefined, send: async () => undefined };
    const kafka = { consumer: () => consumer, producer: () => producer } as unknown as Kafka;
    const noop = () => undefined;
    const handled: string[] = [];
    const ec = new EventConsumer<Uint8Array>({
      kafka,
      groupId: 'test.fallback',
      topics: ['t'],
      codec: { encode: (b: Uint8Array) => ({ finish: () => b }), decode: (b: Uint8Array) => b },
      // A batch of several fails (one bad item in it); alone, every item but "b" is handled.
      batchHandler: async (items) => {
        if (items.length > 1 || items[0]?.envelope.id === 'b') throw new Error('bad item');
        handled.push(items[0]?.envelope.id ?? '');
      },
      retry: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 1 },
      logger: { debug: noop, info: noop, warn: noop, error: noop },
      lagIntervalMs: 0,
    });
    const resolved: string[] = [];
    let heartbeats = 0;
    let staleChecks = 0;
    const run = async () => {
      await ec.start();
      await eachBatch?.({
        batch: {
          topic: 't',
          partition: 0,
          messages: ['a', 'b', 'c'].map((id, i) => ({
            offset: String(i),
            key: null,
            value: Buffer.from(
              encodeEnvelope(buildEnvelope({ id, type: 'test.Event', subject: id, data: new Uint8Array([1]) }, 'test', {})),
            ),
            headers: {},
            timestamp: '0',
            attributes: 0,
          })),
        },
        resolveOffset: (o: string) => resolved.push(o),
        heartbeat: async () => void heartbeats++,
        isRunning: () => true,
        isStale: () => stale(staleChecks++),
      });
      await ec.stop();
    };
    return { run, handled, resolved, heartbeats: () => heartbeats };
  }

  it('resolves and heartbeats after every message, so a slow fallback keeps its progress and its group membership', async () => {
    const c = batchConsumer(() => false);
    await c.run();
    expect(c.handled).toEqual(['a', 'c']); // "b" dead-lettered after its attempts
    expect(c.resolved).toEqual(['0', '1', '2', '2']);
    expect(c.heartbeats()).toBeGreaterThanOrEqual(3);
  });

  it('stops at a revoked partition and leaves the rest unresolved for its new owner', async () => {
    // isStale is asked while decoding (3 times) and before each item of the fallback: stale from the second item on.
    const c = batchConsumer((calls) => calls >= 4);
    await c.run();
    expect(c.handled).toEqual(['a']);
    expect(c.resolved).toEqual(['0']);
  });
});
