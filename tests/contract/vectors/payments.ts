/**
 * Shared payment-metrics vectors (issue #15: both stages have the same scope). One partition of payment events as the
 * transactions outbox publishes them (out of order, re-published duplicates, declines at creation and after review,
 * events no metric uses, late, future and malformed records, amounts beyond 2^53) and what the aggregate stage must make
 * of them: the newest revision of every payment window (tenant `payments`, stream `transfers`, split by currency) and
 * the dead letters. Expected values come from the reference, the TS stage's payment decoder and `PartitionState`, fed
 * what its repartition step copies, in order; checked in as `payments.json`. Both stages reproduce them as processes on
 * a real broker (services/stream-processor/test/vectors.int-spec.ts). Regenerate only when the reference changes on
 * purpose: npx tsx --conditions=@tessera/source tests/contract/vectors/payments.ts --write
 *
 * Dead letters are named by the index of their record here, not by offset: the Go stage copies in Kafka transactions,
 * whose commit markers take offsets of the repartition topic, so the two stages' repartition offsets differ.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commonV1, eventTypeName, paymentsV1 } from '@tessera/contracts';
import { buildEnvelope, encodeEnvelope } from '@tessera/kafka';
/* eslint-disable @nx/enforce-module-boundaries -- the expected output is the TS stage's own processing core */
import type { InputRecord } from '../../../services/stream-processor/src/processing/processing.types';
import { decodePaymentEvent, isAggregatedPaymentEvent } from '../../../services/stream-processor/src/payments/payment-event.decoder';
/* eslint-enable @nx/enforce-module-boundaries */
import { runReference, VECTOR_SETTINGS, type VectorAggregate, type VectorRecord } from './pipeline';

export const PAYMENT_VECTORS_FILE = join(__dirname, 'payments.json');

export interface PaymentVectors {
  settings: typeof VECTOR_SETTINGS;
  records: VectorRecord[];
  aggregates: VectorAggregate[];
  /** record = index in `records` of the dead-lettered record. */
  deadLetters: Array<{ record: number; code: string }>;
}

const T0 = Date.UTC(2026, 0, 1);
const CURRENCIES = ['EUR', 'USD', 'GBP'];
const { TransferStatus } = paymentsV1;

function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

function record(key: string, type: string, data: Uint8Array, envId: string, recordTime: number, note: string): VectorRecord {
  const envelope = buildEnvelope({ type, subject: key, id: envId, data, time: new Date(recordTime) }, 'transactions', {});
  return { key, value: Buffer.from(encodeEnvelope(envelope)).toString('base64'), timestampMs: recordTime, note };
}

function transfer(t: {
  id: string;
  account: string;
  amount?: bigint;
  currency: string;
  status: paymentsV1.TransferStatus;
  at: number;
}): paymentsV1.Transfer {
  return paymentsV1.Transfer.fromPartial({
    id: t.id,
    sourceAccountId: t.account,
    destinationAccountId: 'acc-merchant',
    ...(t.amount === undefined ? {} : { amount: { amountMinor: t.amount, currency: t.currency } }),
    status: t.status,
    createdAt: new Date(t.at),
  });
}

const created = (t: Parameters<typeof transfer>[0]) => paymentsV1.TransferCreated.encode({ transfer: transfer(t) }).finish();

export function paymentRecords(): VectorRecord[] {
  const r = lcg(2026);
  const out: VectorRecord[] = [];
  const held: Array<Parameters<typeof transfer>[0]> = [];
  // 150 s of transfers, 2 per second of record time, created up to 15 s before they are published.
  for (let i = 0; i < 300; i++) {
    const recordTime = T0 + i * 500;
    const roll = r();
    const status =
      roll < 0.1
        ? TransferStatus.TRANSFER_STATUS_DECLINED
        : roll < 0.2
          ? TransferStatus.TRANSFER_STATUS_PENDING
          : TransferStatus.TRANSFER_STATUS_POSTED;
    const t = {
      id: `t${i}`,
      account: `acc-${Math.floor(r() * 40)}`,
      amount: BigInt(Math.round(100 + r() * 500_000)),
      currency: CURRENCIES[Math.floor(r() * CURRENCIES.length)] as string,
      status,
      at: recordTime - Math.floor(r() * 15_000),
    };
    out.push(record(t.account, eventTypeName.TransferCreated, created(t), `env-created-${i}`, recordTime, 'transfer created'));
    if (status === TransferStatus.TRANSFER_STATUS_PENDING) held.push(t);
    // Every fifth turn, the oldest pending (held for review) transfer is declined after review, a few seconds later.
    if (i % 5 === 4 && held.length > 0) {
      const h = held.shift() as Parameters<typeof transfer>[0];
      const declined = paymentsV1.TransferDeclined.encode({
        transfer: transfer({ ...h, status: TransferStatus.TRANSFER_STATUS_DECLINED }),
        declinedBy: 'officer-1',
        alertId: `alert-${h.id}`,
      }).finish();
      out.push(
        record(
          h.account,
          'tessera.payments.v1.TransferDeclined',
          declined,
          `env-declined-${h.id}`,
          recordTime + 1,
          'declined after review',
        ),
      );
    }
    if (i % 25 === 3) {
      const opened = paymentsV1.AccountOpened.encode({ account: paymentsV1.Account.fromPartial({ id: `acc-new-${i}` }) }).finish();
      out.push(
        record(
          `acc-new-${i}`,
          eventTypeName.AccountOpened,
          opened,
          `env-opened-${i}`,
          recordTime + 2,
          'account opened (no payment metric: not copied)',
        ),
      );
    }
    if (i % 41 === 7)
      out.push(
        record(
          t.account,
          eventTypeName.TransferCreated,
          created(t),
          `env-created-${i}`,
          recordTime + 3,
          're-published by the outbox relay (same envelope id)',
        ),
      );
    if (i === 150) {
      out.push(
        record(
          t.account,
          eventTypeName.TransferCreated,
          created({ ...t, id: 'late', at: recordTime - 200_000 }),
          'env-late',
          recordTime + 4,
          'too late for every window',
        ),
      );
      out.push(
        record(
          t.account,
          eventTypeName.TransferCreated,
          created({ ...t, id: 'late-65s', at: recordTime - 65_000 }),
          'env-late-65s',
          recordTime + 5,
          'late for its 10 s window, on time for 60 s ones',
        ),
      );
      out.push(
        record(
          t.account,
          eventTypeName.TransferCreated,
          created({ ...t, id: 'future', at: recordTime + 7_200_000 }),
          'env-future',
          recordTime + 6,
          'created more than 1 h after the record time',
        ),
      );
      out.push(
        record(
          t.account,
          eventTypeName.TransferCreated,
          created({ ...t, id: 'no-amount', amount: undefined }),
          'env-no-amount',
          recordTime + 7,
          'TransferCreated without amount',
        ),
      );
      out.push(
        record(
          t.account,
          eventTypeName.TransferCreated,
          new Uint8Array([0x0a, 0x05, 0x61]),
          'env-truncated',
          recordTime + 8,
          'truncated payload',
        ),
      );
      out.push({
        key: t.account,
        value: Buffer.from('not an envelope \u0000\u00ff', 'latin1').toString('base64'),
        timestampMs: recordTime + 9,
        note: 'garbage bytes',
      });
      out.push({ key: t.account, value: '', timestampMs: recordTime + 10, note: 'empty value' });
      const noId = commonV1.EventEnvelope.encode(
        commonV1.EventEnvelope.fromPartial({ type: eventTypeName.TransferCreated, data: created(t) }),
      ).finish();
      out.push({ key: t.account, value: Buffer.from(noId).toString('base64'), timestampMs: recordTime + 11, note: 'envelope without id' });
      // No transfer in the payload and no envelope time: nothing to place it in a window by.
      const timeless = commonV1.EventEnvelope.encode(
        commonV1.EventEnvelope.fromPartial({ id: 'env-timeless', type: 'tessera.payments.v1.TransferDeclined', data: new Uint8Array() }),
      ).finish();
      out.push({
        key: t.account,
        value: Buffer.from(timeless).toString('base64'),
        timestampMs: recordTime + 12,
        note: 'declined without transfer or time',
      });
      out.push(
        record(
          t.account,
          eventTypeName.TransferCreated,
          created({ ...t, id: 'big', amount: 9_007_199_254_740_993n }),
          'env-big',
          recordTime + 13,
          'amount 2^53 + 1 (a double rounds it)',
        ),
      );
      out.push(
        record(
          t.account,
          eventTypeName.TransferCreated,
          created({ ...t, id: 'negative', amount: -500n, currency: '' }),
          'env-negative',
          recordTime + 14,
          'negative amount, no currency (UNKNOWN)',
        ),
      );
      out.push(
        record(
          t.account,
          'tessera.payments.v1.TransferDeclined',
          new Uint8Array(),
          'env-declined-empty',
          recordTime + 15,
          'declined without transfer: envelope time, UNKNOWN currency',
        ),
      );
    }
  }
  return out;
}

export function generatePaymentVectors(): PaymentVectors {
  const records = paymentRecords();
  // What the repartition step copies, in order: the aggregation sees only these (and names them by its own offsets).
  const copied = records
    .map((rec, index) => ({ rec, index, value: Buffer.from(rec.value, 'base64') }))
    .filter((c) => isAggregatedPaymentEvent(c.value));
  const input: InputRecord[] = copied.map((c, offset) => ({
    ...decodePaymentEvent(c.value),
    offset: String(offset),
    key: Buffer.from('payments/transfers'),
    value: c.value,
    timestampMs: c.rec.timestampMs,
  }));
  const { aggregates, deadLetters } = runReference(input);
  return {
    settings: VECTOR_SETTINGS,
    records,
    aggregates,
    deadLetters: deadLetters.map((d) => ({ record: (copied[d.offset] as { index: number }).index, code: d.code })),
  };
}

if (require.main === module && process.argv.includes('--write')) {
  const v = generatePaymentVectors();
  writeFileSync(PAYMENT_VECTORS_FILE, `${JSON.stringify(v, null, 1)}\n`);
  console.log(
    `wrote ${PAYMENT_VECTORS_FILE}: ${v.records.length} records, ${v.aggregates.length} windows, ${v.deadLetters.length} dead letters`,
  );
}
