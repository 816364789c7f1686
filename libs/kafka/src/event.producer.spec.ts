import { SpanStatusCode, trace } from '@opentelemetry/api';
import { node } from '@opentelemetry/sdk-node';
import { commonV1 } from '@tessera/contracts';
import type { Kafka, Message, ProducerRecord } from 'kafkajs';
import { clearFaults, setFault } from '@tessera/telemetry';
import { buildEnvelope } from './envelope';
import { EventProducer } from './event.producer';
import { headerString } from './trace-headers';

const exporter = new node.InMemorySpanExporter();
const provider = new node.NodeTracerProvider({ spanProcessors: [new node.SimpleSpanProcessor(exporter)] });
provider.register();

const logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const ORIGINAL = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };

function fakeKafka(send: (record: ProducerRecord) => Promise<unknown>): Kafka {
  const producer = { connect: async () => undefined, disconnect: async () => undefined, send };
  return { producer: () => producer } as unknown as Kafka;
}

function storedEnvelope(subject: string) {
  return buildEnvelope(
    {
      type: 'tessera.common.v1.Ping',
      subject,
      data: commonV1.Ping.encode(commonV1.Ping.fromPartial({ message: subject })).finish(),
      time: new Date('2026-01-02T03:04:05.678Z'),
    },
    'transactions',
    { traceparent: `00-${ORIGINAL.traceId}-${ORIGINAL.spanId}-01` },
  );
}

describe('EventProducer', () => {
  afterEach(() => exporter.reset());

  describe('publishEnvelopes', () => {
    it('sends stored envelopes verbatim in one request, each under a publish span parented by its stored traceparent', async () => {
      const sent: ProducerRecord[] = [];
      const producer = new EventProducer({
        kafka: fakeKafka(async (r) => {
          sent.push(r);
          return [];
        }),
        source: 'transactions',
        logger,
      });
      const envelopes = [storedEnvelope('a'), storedEnvelope('b')];

      await producer.publishEnvelopes(
        'payments.transfer.events.v1',
        envelopes.map((envelope, i) => ({ key: `acct-${i}`, envelope })),
      );

      expect(sent).toHaveLength(1);
      const messages = sent[0]?.messages as Message[];
      expect(messages.map((m) => m.key)).toEqual(['acct-0', 'acct-1']);
      const decoded = messages.map((m) => commonV1.EventEnvelope.decode(m.value as Buffer));
      expect(decoded).toEqual(envelopes);
      expect(messages[0]?.timestamp).toBe(String(Date.parse('2026-01-02T03:04:05.678Z')));

      const spans = exporter.getFinishedSpans();
      expect(spans).toHaveLength(2);
      for (const [i, span] of spans.entries()) {
        expect(span.spanContext().traceId).toBe(ORIGINAL.traceId);
        expect(span.parentSpanContext?.spanId).toBe(ORIGINAL.spanId);
        expect(span.attributes['messaging.message.id']).toBe(envelopes[i]?.id);
        const header = headerString(messages[i]?.headers, 'traceparent');
        expect(header).toBe(`00-${ORIGINAL.traceId}-${span.spanContext().spanId}-01`);
        expect(headerString(messages[i]?.headers, 'ce_id')).toBe(envelopes[i]?.id);
      }
    });

    it('rejects and marks every span failed when the broker does not ack', async () => {
      const producer = new EventProducer({
        kafka: fakeKafka(async () => {
          throw new Error('broker down');
        }),
        source: 'transactions',
        logger,
      });
      await expect(producer.publishEnvelopes('t', [{ key: 'k', envelope: storedEnvelope('a') }])).rejects.toThrow('broker down');
      expect(exporter.getFinishedSpans().map((s) => s.status.code)).toEqual([SpanStatusCode.ERROR]);
    });

    it('sends nothing for an empty list', async () => {
      const send = jest.fn();
      await new EventProducer({ kafka: fakeKafka(send), source: 's', logger }).publishEnvelopes('t', []);
      expect(send).not.toHaveBeenCalled();
      expect(trace.getActiveSpan()).toBeUndefined();
    });
  });

  describe('with the kafka-produce fault switched on (runtime fault toggles)', () => {
    afterEach(() => clearFaults());

    it('fails sends to the matching topic as a dropped broker connection would, without reaching the broker', async () => {
      const send = jest.fn(async () => []);
      const producer = new EventProducer({ kafka: fakeKafka(send), source: 's', logger });
      setFault('kafka-produce', { errorRate: 1, match: 'payments.' }, {});
      await expect(
        producer.publishEnvelopes('payments.transfer.events.v1', [{ key: 'k', envelope: storedEnvelope('a') }]),
      ).rejects.toMatchObject({ name: 'KafkaJSConnectionError' });
      await expect(
        producer.publishBatch('platform.pings.v1', [{ type: 'tessera.common.v1.Ping', subject: 'p', data: new Uint8Array() }]),
      ).resolves.toHaveLength(1);
      expect(send).toHaveBeenCalledTimes(1);
    });
  });

  it('starts a fresh kafkajs producer after a disconnect (a new producer id, not the old sequence numbers)', async () => {
    const made: unknown[] = [];
    const kafka = {
      producer: () => {
        const p = { connect: async () => undefined, disconnect: async () => undefined, send: async () => [] };
        made.push(p);
        return p;
      },
    } as unknown as Kafka;
    const producer = new EventProducer({ kafka, source: 's', logger });
    await producer.connect();
    await producer.disconnect();
    await producer.connect();
    expect(made).toHaveLength(2);
    expect(made[0]).not.toBe(made[1]);
  });
});
