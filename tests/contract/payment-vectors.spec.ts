import { readFileSync } from 'node:fs';
import { generatePaymentVectors, PAYMENT_VECTORS_FILE, type PaymentVectors } from './vectors/payments';

/**
 * The checked-in payment vectors are what the TS stage's payment decoder and processing core compute today (a change
 * to either, or to the file, fails here); services/stream-processor/test/vectors.int-spec.ts holds both running stages
 * to the same file.
 */
describe('shared payment vectors (tests/contract/vectors/payments.json)', () => {
  const want = JSON.parse(readFileSync(PAYMENT_VECTORS_FILE, 'utf8')) as PaymentVectors;
  const got = generatePaymentVectors();

  it('hold every metric, currency and kind of input', () => {
    const metrics = new Set(want.aggregates.map((a) => a.windowKey.split('|')[2]));
    expect(metrics).toEqual(new Set(['transfer.count', 'transfer.value', 'transfer.declined']));
    const currencies = new Set(want.aggregates.map((a) => a.windowKey.split('|')[3]));
    for (const c of ['=', 'currency=EUR', 'currency=USD', 'currency=GBP', 'currency=UNKNOWN']) expect(currencies).toContain(c);
    const notes = new Set(want.records.map((r) => r.note));
    for (const n of [
      'declined after review',
      're-published by the outbox relay (same envelope id)',
      'account opened (no payment metric: not copied)',
      'garbage bytes',
      'empty value',
      'envelope without id',
    ])
      expect(notes).toContain(n);
    expect(new Set(want.deadLetters.map((d) => d.code))).toEqual(
      new Set([
        'ANALYTICS.INVALID_ENVELOPE',
        'ANALYTICS.INVALID_PAYLOAD',
        'ANALYTICS.INVALID_EVENT',
        'ANALYTICS.FUTURE_EVENT_TIME',
        'LATE',
      ]),
    );
  });

  it('are what the reference computes (records, windows, dead letters)', () => {
    expect(got.records).toEqual(want.records);
    expect(got.deadLetters).toEqual(want.deadLetters);
    expect(got.aggregates).toEqual(want.aggregates);
  });
});
