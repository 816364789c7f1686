import { paymentsV1 } from '@tessera/contracts';
import { authorizeHoldBody, captureHoldBody, toAuthorizeHoldRequest, toCaptureHoldRequest, toHoldView } from './hold.dto';

const A = '0b9a1a52-2f57-4c4e-9d59-1f0a6e4b2c11';
const B = '6f1c2d3e-4a5b-4c6d-8e7f-901234567890';

describe('authorizeHoldBody / toAuthorizeHoldRequest', () => {
  it('maps the ttl to a protobuf Duration and leaves it unset for the server default', () => {
    const body = authorizeHoldBody.parse({
      accountId: A,
      destinationAccountId: B,
      amount: { amountMinor: '500', currency: 'USD' },
      ttlSeconds: 3600,
    });
    expect(toAuthorizeHoldRequest(body, 'key-12345678')).toMatchObject({
      idempotencyKey: 'key-12345678',
      amount: { amountMinor: 500n, currency: 'USD' },
      ttl: { seconds: 3600n, nanos: 0 },
    });
    const noTtl = authorizeHoldBody.parse({ accountId: A, destinationAccountId: B, amount: { amountMinor: '500', currency: 'USD' } });
    expect(toAuthorizeHoldRequest(noTtl, 'key-12345678').ttl).toBeUndefined();
  });

  it('rejects the same account on both sides, a ttl over 30 days and a zero amount', () => {
    const result = authorizeHoldBody.safeParse({
      accountId: A,
      destinationAccountId: A,
      amount: { amountMinor: '0', currency: 'USD' },
      ttlSeconds: 31 * 24 * 3600,
    });
    expect(result.error?.issues.map((i) => i.path.join('.')).sort()).toEqual(['amount.amountMinor', 'destinationAccountId', 'ttlSeconds']);
  });
});

describe('captureHoldBody / toCaptureHoldRequest', () => {
  it('captures everything without an amount, or the given part', () => {
    expect(toCaptureHoldRequest(A, captureHoldBody.parse({}), 'key-12345678').amount).toBeUndefined();
    expect(
      toCaptureHoldRequest(A, captureHoldBody.parse({ amount: { amountMinor: '20', currency: 'USD' } }), 'key-12345678').amount,
    ).toEqual({ amountMinor: 20n, currency: 'USD' });
  });
});

describe('toHoldView', () => {
  it('renders status without prefix and an uncaptured hold with a null capture transfer', () => {
    const hold = paymentsV1.Hold.fromPartial({
      id: 'h-1',
      accountId: A,
      status: paymentsV1.HoldStatus.HOLD_STATUS_AUTHORIZED,
      amount: { amountMinor: 5n, currency: 'USD' },
      expiresAt: new Date('2026-02-01T00:00:00.000Z'),
    });
    expect(toHoldView(hold)).toMatchObject({
      status: 'AUTHORIZED',
      amount: { amountMinor: '5', currency: 'USD' },
      capturedAmount: null,
      captureTransferId: null,
      expiresAt: '2026-02-01T00:00:00.000Z',
    });
  });
});
