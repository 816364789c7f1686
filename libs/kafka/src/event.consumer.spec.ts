import { clearComponentFailures, componentFailures } from '@tessera/telemetry';
import type { Kafka } from 'kafkajs';
import { EventConsumer } from './event.consumer';

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
  const crash = (error: Error, restart: boolean) => listeners.get('consumer.crash')?.({ payload: { error, groupId: 'test.crash', restart } });
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
    kafka, groupId: 'test.crash', topics: ['t'], codec: { encode: (b: Uint8Array) => ({ finish: () => b }), decode: (b: Uint8Array) => b }, handler: async () => undefined, logger: log, lagIntervalMs: 0,
  });

  it('marks the process broken and says what to do when kafkajs will not restart the consumer', async () => {
    const { kafka, crash } = fakeKafka();
    const log = logger();
    await new EventConsumer(options(kafka, log.logger)).start();
    crash(Object.assign(new Error('Snappy compression not implemented'), { name: 'KafkaJSNotImplemented' }), false);
    expect(componentFailures().map((f) => [f.component, f.error.message])).toEqual([['kafka consumer test.crash', 'Snappy compression not implemented']]);
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
