/**
 * The AML monitor against the real Kafka broker: TransferCreated envelopes go to a per-run topic, the
 * monitor (its own group) raises alerts in a throwaway Postgres, and the outbox relay publishes them to a
 * per-run alerts topic, read back here.
 */
import { randomUUID } from 'node:crypto';
import { trace } from '@opentelemetry/api';
import { node } from '@opentelemetry/sdk-node';
import { commonV1, complianceV1, eventTypeName, paymentsV1 } from '@tessera/contracts';
import { createKafka, deleteConsumerGroups, EventProducer } from '@tessera/kafka';
import { createLogger } from '@tessera/telemetry';
import { throwawayTopics, type ThrowawayTopics } from '@tessera/testing';
import type { Consumer, Kafka } from 'kafkajs';
import { TransferEventsConsumer } from '../src/monitoring/transfer-events.consumer';
import { type Harness, startCompliance } from './support/harness';

jest.setTimeout(90_000);
process.env['LOG_LEVEL'] ??= 'warn';

const BROKERS = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092').split(',');
const RUN = randomUUID().slice(0, 8);
const TRANSFERS = `test.compliance-transfers.${RUN}`;
const ALERTS = `test.compliance-alerts.${RUN}`;
const logger = createLogger('monitor-test');
// A real tracer provider (with the async-local-storage context manager), so envelopes carry traceparents
// and the monitor's consumer span is active while it raises alerts.
const provider = new node.NodeTracerProvider({ spanProcessors: [new node.SimpleSpanProcessor(new node.InMemorySpanExporter())] });
provider.register();

let kafka: Kafka;
let topics: ThrowawayTopics | undefined;
let producer: EventProducer;
let alertsConsumer: Consumer;
const received: complianceV1.Alert[] = [];
let h: Harness;

function transferCreated(
  source: string,
  destination: string,
  amountMinor: bigint,
  at: Date,
): { id: string; message: paymentsV1.TransferCreated } {
  const id = randomUUID();
  return {
    id,
    message: paymentsV1.TransferCreated.fromPartial({
      transfer: {
        id,
        sourceAccountId: source,
        destinationAccountId: destination,
        amount: { amountMinor, currency: 'EUR' },
        status: paymentsV1.TransferStatus.TRANSFER_STATUS_POSTED,
        createdAt: at,
        postedAt: at,
      },
    }),
  };
}

/** Publishes under a fresh root span and returns its trace id (the trace of the envelope's traceparent). */
async function publish(t: { id: string; message: paymentsV1.TransferCreated }, eventId = randomUUID()): Promise<string> {
  return trace.getTracer('monitor-test').startActiveSpan('test publish', async (span) => {
    try {
      await publishUntraced(t, eventId);
      return span.spanContext().traceId;
    } finally {
      span.end();
    }
  });
}

async function publishUntraced(t: { id: string; message: paymentsV1.TransferCreated }, eventId: string): Promise<void> {
  await producer.publish(TRANSFERS, {
    id: eventId,
    type: eventTypeName.TransferCreated,
    subject: t.id,
    key: t.message.transfer?.sourceAccountId,
    message: t.message,
    codec: paymentsV1.TransferCreated,
  });
}

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  kafka = createKafka({ clientId: `compliance-test-${RUN}`, brokers: BROKERS, logger });
  topics = await throwawayTopics(kafka, [
    { topic: TRANSFERS, partitions: 3 },
    { topic: `${TRANSFERS}.dlq`, partitions: 1 },
    { topic: ALERTS, partitions: 1 },
  ]);
  producer = new EventProducer({ kafka, source: 'transactions', logger });
  await producer.connect();
  alertsConsumer = kafka.consumer({ groupId: `test.alerts-${RUN}` });
  await alertsConsumer.connect();
  await alertsConsumer.subscribe({ topic: ALERTS, fromBeginning: true });
  await alertsConsumer.run({
    eachMessage: async ({ message }) => {
      const envelope = commonV1.EventEnvelope.decode(message.value ?? new Uint8Array());
      if (envelope.type === eventTypeName.ComplianceAlert) {
        const alert = complianceV1.ComplianceAlert.decode(envelope.data).alert;
        if (alert) received.push(alert);
      }
    },
  });
  h = await startCompliance({
    KAFKA_BROKERS: BROKERS.join(','),
    COMPLIANCE_MONITOR_GROUP: `compliance.test-${RUN}`,
    COMPLIANCE_TRANSFER_EVENTS_TOPIC: TRANSFERS,
    COMPLIANCE_ALERTS_TOPIC: ALERTS,
  });
  await h.app.get(TransferEventsConsumer).joined;
});

afterAll(async () => {
  await provider.shutdown();
  await h?.close();
  await alertsConsumer?.disconnect();
  await producer?.disconnect();
  await topics?.delete();
  await deleteConsumerGroups(kafka, [`compliance.test-${RUN}`]);
});

describe('AML monitor over Kafka', () => {
  it('raises and publishes a structuring alert once, even when events are redelivered', async () => {
    const account = randomUUID();
    const t0 = Date.now() - 3_600_000;
    const transfers = [960_000n, 985_000n, 999_000n].map((amount, i) =>
      transferCreated(account, randomUUID(), amount, new Date(t0 + i * 60_000)),
    );
    const eventIds = transfers.map(() => randomUUID());
    const traceIds: string[] = [];
    for (const [i, t] of transfers.entries()) traceIds.push(await publish(t, eventIds[i]));
    await publish(transfers[2]!, eventIds[2]); // a redelivery of the last event
    const alert = await eventually(async () => received.find((a) => a.accountId === account && a.ruleId === 'aml.structuring'));
    expect(alert).toMatchObject({
      ruleVersion: 'v1',
      severity: complianceV1.AlertSeverity.ALERT_SEVERITY_HIGH,
      status: complianceV1.AlertStatus.ALERT_STATUS_OPEN,
    });
    expect(alert.transferIds.sort()).toEqual(transfers.map((t) => t.id).sort());
    // Same source account, same partition, in order: the third event raised it, inside its consumer span,
    // whose trace is the one the event's traceparent carried.
    expect(alert.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(alert.traceId).toBe(traceIds[2]);
    const { rows } = await h.db.query(
      "SELECT count(*)::int AS n, max(trace_id) AS trace_id FROM alerts WHERE account_id = $1 AND rule_id = 'aml.structuring'",
      [account],
    );
    expect(rows[0]).toEqual({ n: 1, trace_id: traceIds[2] });
    const processed = await h.db.query('SELECT count(*)::int AS n FROM processed_events WHERE event_id = ANY($1)', [eventIds]);
    expect(processed.rows[0].n).toBe(3);
  });

  it('detects rapid in-and-out and fan-out to new counterparties', async () => {
    const mule = randomUUID();
    const t0 = Date.now() - 600_000;
    await publish(transferCreated(mule, randomUUID(), 750_000n, new Date(t0 + 120_000))); // out first: other partition, may arrive first
    await publish(transferCreated(randomUUID(), mule, 800_000n, new Date(t0)));
    const payer = randomUUID();
    for (let i = 0; i < 5; i++) await publish(transferCreated(payer, randomUUID(), 1_000n, new Date(t0 + i * 60_000)));
    await eventually(async () => received.find((a) => a.accountId === mule && a.ruleId === 'aml.rapid_in_out'));
    const fan = await eventually(async () => received.find((a) => a.accountId === payer && a.ruleId === 'aml.fan_out'));
    expect(fan.transferIds).toHaveLength(5);
  });

  it('raises nothing for ordinary traffic', async () => {
    const account = randomUUID();
    for (let i = 0; i < 3; i++) await publish(transferCreated(account, randomUUID(), 12_345n, new Date(Date.now() - i * 1000)));
    await eventually(async () => {
      const { rows } = await h.db.query('SELECT count(*)::int AS n FROM observed_transfers WHERE source_account_id = $1', [account]);
      return rows[0].n === 3 ? true : undefined;
    });
    const { rows } = await h.db.query('SELECT count(*)::int AS n FROM alerts WHERE account_id = $1', [account]);
    expect(rows[0].n).toBe(0);
  });
});
