import { eventTypeName, paymentsV1 } from '@tessera/contracts';
import { buildEnvelope, encodeEnvelope } from '@tessera/kafka';
import { decodePaymentEvent, isAggregatedPaymentEvent, PAYMENT_DIMENSIONS } from './payment-event.decoder';

const createdAt = new Date('2025-01-01T12:00:03Z');
const transfer = (status: paymentsV1.TransferStatus) =>
  paymentsV1.Transfer.fromPartial({
    id: 't1',
    sourceAccountId: 'acc-1',
    amount: { amountMinor: 12_345n, currency: 'EUR' },
    status,
    createdAt,
  });

function record(type: string, data: Uint8Array): Buffer {
  return encodeEnvelope(buildEnvelope({ type, subject: 't1', id: 'env-1', data }, 'transactions', {}));
}

describe(decodePaymentEvent, () => {
  it('maps a created transfer to count and value, split by currency whatever the configured dimensions', () => {
    const t = transfer(paymentsV1.TransferStatus.TRANSFER_STATUS_POSTED);
    const out = decodePaymentEvent(record(eventTypeName.TransferCreated, paymentsV1.TransferCreated.encode({ transfer: t }).finish()));
    expect(out).toEqual({
      kind: 'event',
      event: expect.objectContaining({
        tenantId: 'payments',
        streamId: 'transfers',
        eventId: 'env-1',
        eventTimeMs: createdAt.getTime(),
        measurements: [
          { metric: 'transfer.count', value: 1 },
          { metric: 'transfer.value', value: 12_345 },
        ],
        dimensions: PAYMENT_DIMENSIONS,
      }),
    });
    expect(out.kind === 'event' && out.event.attributes['currency']).toBe('EUR');
  });

  it('adds transfer.declined for a transfer declined at creation and for a later TransferDeclined', () => {
    const declined = transfer(paymentsV1.TransferStatus.TRANSFER_STATUS_DECLINED);
    const atCreation = decodePaymentEvent(
      record(eventTypeName.TransferCreated, paymentsV1.TransferCreated.encode({ transfer: declined }).finish()),
    );
    expect(atCreation.kind === 'event' && atCreation.event.measurements.map((m) => m.metric)).toEqual([
      'transfer.count',
      'transfer.value',
      'transfer.declined',
    ]);
    const later = decodePaymentEvent(
      record(
        'tessera.payments.v1.TransferDeclined',
        paymentsV1.TransferDeclined.encode(paymentsV1.TransferDeclined.fromPartial({ transfer: declined })).finish(),
      ),
    );
    expect(later.kind === 'event' && later.event.measurements).toEqual([{ metric: 'transfer.declined', value: 1 }]);
  });

  it('ignores other payment events and dead-letters undecodable ones', () => {
    expect(decodePaymentEvent(record(eventTypeName.HoldVoided, new Uint8Array()))).toEqual({ kind: 'ignored' });
    expect(decodePaymentEvent(Buffer.from('junk'))).toMatchObject({ kind: 'poison', code: 'ANALYTICS.INVALID_ENVELOPE' });
    expect(decodePaymentEvent(record(eventTypeName.TransferCreated, new Uint8Array([0x0a, 0xff])))).toMatchObject({
      kind: 'poison',
      code: 'ANALYTICS.INVALID_PAYLOAD',
    });
  });
});

describe(isAggregatedPaymentEvent, () => {
  it('copies exactly what the aggregation counts or dead-letters: every event it would ignore is left behind', () => {
    const samples: Array<[string, Buffer]> = [
      [
        'created',
        record(
          eventTypeName.TransferCreated,
          paymentsV1.TransferCreated.encode({ transfer: transfer(paymentsV1.TransferStatus.TRANSFER_STATUS_POSTED) }).finish(),
        ),
      ],
      ['declined', record('tessera.payments.v1.TransferDeclined', new Uint8Array())],
      ['hold voided', record(eventTypeName.HoldVoided, new Uint8Array())],
      ['account opened', record(eventTypeName.AccountOpened, new Uint8Array())],
      ['junk', Buffer.from('junk')],
      ['created, bad payload', record(eventTypeName.TransferCreated, new Uint8Array([0x0a, 0xff]))],
    ];
    for (const [name, value] of samples)
      expect({ name, copied: isAggregatedPaymentEvent(value) }).toEqual({ name, copied: decodePaymentEvent(value).kind !== 'ignored' });
    expect(samples.filter(([, v]) => isAggregatedPaymentEvent(v)).map(([n]) => n)).toEqual([
      'created',
      'declined',
      'junk',
      'created, bad payload',
    ]);
  });
});
