import { analyticsV1, eventTypeName, paymentsV1 } from '@tessera/contracts';
import { PoisonMessageError } from '@tessera/kafka';
import { transferFromEvent } from './transfer-events.consumer';

const transfer = (status: paymentsV1.TransferStatus) =>
  paymentsV1.Transfer.fromPartial({
    id: 't-1',
    sourceAccountId: 'a',
    destinationAccountId: 'b',
    amount: { amountMinor: '500', currency: 'EUR' },
    status,
    createdAt: new Date('2026-12-04T10:00:00Z'),
  });
const created = (status: paymentsV1.TransferStatus) =>
  paymentsV1.TransferCreated.encode(paymentsV1.TransferCreated.fromPartial({ transfer: transfer(status) })).finish();

describe('transferFromEvent', () => {
  it('reads a posted or held transfer from TransferCreated and HoldCaptured', () => {
    expect(transferFromEvent(eventTypeName.TransferCreated, created(paymentsV1.TransferStatus.TRANSFER_STATUS_POSTED))).toMatchObject({
      status: 'POSTED',
      transfer: { transferId: 't-1', currency: 'EUR' },
    });
    const captured = paymentsV1.HoldCaptured.encode(
      paymentsV1.HoldCaptured.fromPartial({ transfer: transfer(paymentsV1.TransferStatus.TRANSFER_STATUS_PENDING) }),
    ).finish();
    expect(transferFromEvent(eventTypeName.HoldCaptured, captured)).toMatchObject({ status: 'PENDING' });
  });

  it('ignores other event types and transfers that did not move money', () => {
    expect(transferFromEvent(eventTypeName.AccountOpened, new Uint8Array([1, 2, 3]))).toBeUndefined();
    expect(transferFromEvent(eventTypeName.TransferCreated, created(paymentsV1.TransferStatus.TRANSFER_STATUS_DECLINED))).toBeUndefined();
  });

  it('calls a TransferCreated that does not decode, or holds another contract, poison (dead-lettered, never skipped silently)', () => {
    expect(() => transferFromEvent(eventTypeName.TransferCreated, new Uint8Array([0x0a, 0x05, 0x01]))).toThrow(PoisonMessageError);
    const other = analyticsV1.AnalyticsEvent.encode(
      analyticsV1.AnalyticsEvent.fromPartial({ tenantId: 'demo', eventId: 'e-1', value: 3 }),
    ).finish();
    expect(() => transferFromEvent(eventTypeName.TransferCreated, other)).toThrow(/without a transfer id or amount/);
  });
});
