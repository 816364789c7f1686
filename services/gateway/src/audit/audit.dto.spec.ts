import { paymentsV1 } from '@tessera/contracts';
import { toAuditRecordView, toAuditVerificationView } from './audit.dto';

describe('toAuditVerificationView', () => {
  it('reports a valid chain with its head and no failing record', () => {
    expect(toAuditVerificationView({ valid: true, recordsChecked: 42n, firstInvalidSeq: 0n, failureReason: '', headHash: 'ab' })).toEqual({
      valid: true,
      recordsChecked: '42',
      firstInvalidSeq: null,
      failureReason: null,
      headHash: 'ab',
    });
  });

  it('names the first tampered record', () => {
    expect(
      toAuditVerificationView({ valid: false, recordsChecked: 7n, firstInvalidSeq: 7n, failureReason: 'hash mismatch', headHash: '' }),
    ).toMatchObject({ valid: false, firstInvalidSeq: '7', failureReason: 'hash mismatch', headHash: null });
  });
});

describe('toAuditRecordView', () => {
  it('parses the payload and keeps an unparsable one raw', () => {
    const record = paymentsV1.AuditRecord.fromPartial({
      seq: 3n,
      payloadJson: '{"amountMinor":"10"}',
      occurredAt: new Date('2026-01-01T00:00:00.000Z'),
    });
    expect(toAuditRecordView(record)).toMatchObject({ seq: '3', payload: { amountMinor: '10' }, occurredAt: '2026-01-01T00:00:00.000Z' });
    expect(toAuditRecordView({ ...record, payloadJson: '{broken' }).payload).toBe('{broken');
  });
});
