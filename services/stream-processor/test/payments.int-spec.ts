import type { ChildProcess } from 'node:child_process';
import { analyticsV1, eventTypeName, paymentsV1 } from '@tessera/contracts';
import { buildEnvelope, decodeEnvelope, encodeEnvelope, type MessageCodec } from '@tessera/kafka';
import { OtlpReceiver } from '@tessera/telemetry';
import type { Admin, Kafka, Message } from 'kafkajs';
import { aggregationOptions } from '../src/composition';
import { streamProcessorConfigSchema } from '../src/config';
import { windowKeyOf } from '../src/windowing/window-key';
import { windowStartsFor } from '../src/windowing/window-spec';
import {
  committedTotal,
  createTopics,
  deleteTopics,
  endTotal,
  exited,
  produce,
  readAll,
  runNames,
  startProcessor,
  testKafka,
  waitFor,
} from './support/kafka-fixture';
import { latestAggregates, T0 } from './support/scenario';

jest.setTimeout(120_000);

const CURRENCIES = ['EUR', 'USD', 'GBP'];
const TRANSFER_DECLINED = 'tessera.payments.v1.TransferDeclined';
const options = aggregationOptions(streamProcessorConfigSchema.parse({}));

/** The record the transactions outbox relay publishes: envelope from `transactions`, key = source account. */
/** A traceparent per event id, as the relay would carry from the request that created the transfer. */
const traceparentOf = (id: string) => `00-${Buffer.from(id.padEnd(16, '.')).subarray(0, 16).toString('hex')}-${'ab'.repeat(8)}-01`;

function outboxRecord<T>(type: string, codec: MessageCodec<T>, message: T, transfer: paymentsV1.Transfer, id: string): Message {
  const envelope = buildEnvelope({ type, subject: transfer.id, key: transfer.sourceAccountId, id, message, codec }, 'transactions', {
    traceparent: traceparentOf(id),
  });
  return { key: transfer.sourceAccountId, value: encodeEnvelope(envelope) };
}

function transfer(i: number, status: paymentsV1.TransferStatus): paymentsV1.Transfer {
  return paymentsV1.Transfer.fromPartial({
    id: `tr-${i}`,
    sourceAccountId: `acc-${i % 17}`,
    destinationAccountId: `acc-${(i + 5) % 17}`,
    amount: { amountMinor: BigInt(100 + ((i * 7_919) % 50_000)), currency: CURRENCIES[i % 3] as string },
    status,
    kind: paymentsV1.TransferKind.TRANSFER_KIND_DIRECT,
    createdAt: new Date(T0 + ((i * 3_331) % 25_000)),
  });
}

describe('stream-processor payment metrics (real Kafka, payments.transfer.events.v1 input)', () => {
  const names = runNames('pay');
  let otlp: OtlpReceiver;
  let kafka: Kafka;
  let admin: Admin;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    kafka = testKafka();
    admin = kafka.admin();
    await admin.connect();
    otlp = await OtlpReceiver.start();
    await createTopics(admin, [
      { topic: names.raw, partitions: 1 },
      { topic: names.payments, partitions: 2 },
      { topic: names.aggregates, partitions: 2 },
      { topic: names.dlq, partitions: 1 },
    ]);
  });

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await deleteTopics(admin, names);
    await otlp.stop();
    await admin.disconnect();
  });

  it('aggregates transfer.count, transfer.value and transfer.declined per currency and in total', async () => {
    const S = paymentsV1.TransferStatus;
    const records: Message[] = [];
    /** Expected [count, sum] per window key. */
    const want = new Map<string, { count: number; sum: number }>();
    const expectMeasurement = (t: paymentsV1.Transfer, metric: string, value: number) => {
      const at = (t.createdAt as Date).getTime();
      for (const spec of options.windows) {
        for (const startMs of windowStartsFor(spec, at)) {
          for (const [dimKey, dimValue] of [
            ['', ''],
            ['currency', t.amount?.currency ?? ''],
          ]) {
            const key = windowKeyOf({
              tenantId: 'payments',
              streamId: 'transfers',
              metric,
              dimKey: dimKey as string,
              dimValue: dimValue as string,
              sizeMs: spec.sizeMs,
              slideMs: spec.slideMs,
              startMs,
            });
            const w = want.get(key) ?? { count: 0, sum: 0 };
            want.set(key, { count: w.count + 1, sum: w.sum + value });
          }
        }
      }
    };
    let reversed = 0;
    for (let i = 0; i < 400; i++) {
      const status = i % 7 === 0 ? S.TRANSFER_STATUS_DECLINED : i % 5 === 0 ? S.TRANSFER_STATUS_PENDING : S.TRANSFER_STATUS_POSTED;
      const t = transfer(i, status);
      const created = outboxRecord(eventTypeName.TransferCreated, paymentsV1.TransferCreated, { transfer: t }, t, `created-${i}`);
      records.push(created);
      expectMeasurement(t, 'transfer.count', 1);
      expectMeasurement(t, 'transfer.value', Number(t.amount?.amountMinor));
      if (status === S.TRANSFER_STATUS_DECLINED) expectMeasurement(t, 'transfer.declined', 1);
      if (i % 9 === 0) records.push(created); // the relay re-publishes after a crash: same envelope id
      if (status === S.TRANSFER_STATUS_PENDING && i % 2 === 0) {
        // Declined after compliance review: counts as a decline of the window the transfer was created in.
        const declined = { ...t, status: S.TRANSFER_STATUS_DECLINED };
        records.push(
          outboxRecord(
            TRANSFER_DECLINED,
            paymentsV1.TransferDeclined,
            paymentsV1.TransferDeclined.fromPartial({ transfer: declined, declinedBy: 'analyst-1', alertId: `al-${i}` }),
            declined,
            `declined-${i}`,
          ),
        );
        expectMeasurement(t, 'transfer.declined', 1);
      }
      if (i % 11 === 0) {
        // Events without payment metrics are ignored, neither counted nor dead-lettered.
        records.push(
          outboxRecord(
            eventTypeName.TransferReversed,
            paymentsV1.TransferReversed,
            paymentsV1.TransferReversed.fromPartial({ original: t }),
            t,
            `reversed-${i}`,
          ),
        );
        reversed++;
      }
    }
    records.push({ key: 'acc-1', value: Buffer.from('not an envelope') });
    await produce(kafka, names.payments, records);

    child = startProcessor(names, { STREAM_PROCESSOR_PAYMENTS_TOPIC: names.payments }, otlp);
    const total = await endTotal(admin, names.payments);
    await waitFor('all payment events committed', async () => (await committedTotal(admin, names.group, names.payments)) === total, 90_000);
    // ...and aggregated: the windows are computed from the repartition topic, one hop later. That topic (one
    // partition) is written by the idempotent, non-transactional copy (no commit markers): caught up = its end.
    const repartitioned = await endTotal(admin, names.repartition);
    // Events without payment metrics are not even copied (the poison record is: the aggregation dead-letters it).
    expect(repartitioned).toBe(records.length - reversed);
    await waitFor(
      'all repartitioned records committed',
      async () => (await committedTotal(admin, names.group, names.repartition)) >= repartitioned,
      90_000,
    );
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);

    const latest = await latestAggregates(kafka, admin, names.aggregates);
    const got = new Map([...latest].map(([k, a]) => [k, { count: Number(a.count), sum: a.sum }]));
    expect(new Set(got.keys())).toEqual(new Set(want.keys()));
    for (const [k, w] of want) expect({ k, ...got.get(k) }).toEqual({ k, ...w });
    for (const a of latest.values()) expect(a).toMatchObject({ tenantId: 'payments', streamId: 'transfers', lateEvents: 0n });

    const metrics = new Set([...latest.values()].map((a) => a.metric));
    expect([...metrics].sort()).toEqual(['transfer.count', 'transfer.declined', 'transfer.value']);
    const currencies = new Set([...latest.values()].filter((a) => a.dimensionKey === 'currency').map((a) => a.dimensionValue));
    expect([...currencies].sort()).toEqual(['EUR', 'GBP', 'USD']);

    const dlq = await readAll(kafka, admin, names.dlq);
    expect(dlq).toHaveLength(1);

    // Every aggregate names the trace of the transaction that emitted it: an `aggregate window batch` span.
    // Exported on shutdown at the latest (SIGTERM above flushes the batch processor before exit 0).
    const batchSpans = otlp.spans.filter((s) => s.name === 'aggregate window batch');
    const batchTraces = new Set(batchSpans.map((s) => s.traceId));
    for (const a of latest.values()) {
      expect(a.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(batchTraces.has(a.traceId)).toBe(true);
    }
    expect(
      batchSpans.some(
        (s) => Number(s.attributes['messaging.batch.message_count']) > 0 && Number(s.attributes['tessera.aggregates.emitted']) > 0,
      ),
    ).toBe(true);
    // ...and its envelope is published inside that span, so consumers (insights) continue the same trace.
    const [record] = await readAll(kafka, admin, names.aggregates);
    const envelope = decodeEnvelope(record!.value);
    expect(envelope.traceparent.split('-')[1]).toBe(analyticsV1.WindowAggregate.decode(envelope.data).traceId);
  });
});
