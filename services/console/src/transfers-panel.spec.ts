import type { TransferView } from './api';
import { transferRows } from './transfers-panel';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const TEMPLATE = 'http://127.0.0.1:9411/zipkin/traces/{traceId}';

function transfer(over: Partial<TransferView>): TransferView {
  return {
    id: '0b9a1a52-2f57-4c4e-9d59-1f0a6e4b2c11',
    status: 'POSTED',
    kind: 'DIRECT',
    amount: { amountMinor: '123456', currency: 'EUR' },
    createdAt: '2030-01-01T12:34:56.789Z',
    traceId: TRACE,
    ...over,
  };
}

describe('transferRows', () => {
  it('shows id, status, amount and time, and links the transfer to the trace of the request that created it', () => {
    expect(transferRows([transfer({})], TEMPLATE)).toEqual([
      {
        id: '0b9a1a52-2f57-4c4e-9d59-1f0a6e4b2c11',
        shortId: '0b9a1a52',
        status: 'POSTED',
        kind: 'DIRECT',
        amount: '1,234.56 EUR',
        created: '12:34:56',
        trace: { href: `http://127.0.0.1:9411/zipkin/traces/${TRACE}` },
      },
    ]);
  });

  it('keeps the gateway order and says why a row has no link', () => {
    const rows = transferRows(
      [
        transfer({ id: 'a'.repeat(36) }),
        transfer({ id: 'b'.repeat(36), traceId: null }),
        transfer({ id: 'c'.repeat(36), traceId: undefined }),
      ],
      TEMPLATE,
    );
    expect(rows.map((r) => r.shortId)).toEqual(['aaaaaaaa', 'bbbbbbbb', 'cccccccc']);
    expect(rows.map((r) => r.trace)).toEqual([
      { href: `http://127.0.0.1:9411/zipkin/traces/${TRACE}` },
      { reason: 'no trace recorded for this item (not sampled, or made before tracing)' },
      { reason: 'no trace recorded for this item (not sampled, or made before tracing)' },
    ]);
    expect(transferRows([transfer({})], null)[0]?.trace).toEqual({ reason: 'no trace UI configured (TESSERA_TRACE_URL)' });
  });

  it('never turns a malformed trace id from the network into a link', () => {
    expect(transferRows([transfer({ traceId: '"><img src=x onerror=alert(1)>' })], TEMPLATE)[0]?.trace).toEqual({
      reason: 'no trace recorded for this item (not sampled, or made before tracing)',
    });
  });
});
