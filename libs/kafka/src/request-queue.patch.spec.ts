/**
 * kafkajs 2.2.4 is patched (patches/kafkajs+2.2.4.patch, applied by patch-package on npm install): upstream's
 * RequestQueue re-arms a 1 ms timer forever when nothing is pending (kafkajs#1556/#1704), ~30-45 ms of CPU per
 * second in every idle Node process with a Kafka client. These tests drive the real RequestQueue.
 */
const RequestQueue = require('kafkajs/src/network/requestQueue') as new (options: object) => {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
  checkPendingRequests(): void;
  destroy(): void;
};

const ignore = (): void => undefined;
const quiet = { debug: ignore, info: ignore, warn: ignore, error: ignore };

function queue() {
  return new RequestQueue({
    maxInFlightRequests: 1,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: 'spec',
    broker: 'localhost:1',
    logger: quiet,
  });
}

describe('kafkajs RequestQueue (patched)', () => {
  it('arms no timer when nothing is pending and the broker is not throttling', () => {
    const q = queue();
    try {
      q.checkPendingRequests(); // what every response (fulfillRequest) calls
      expect(q.throttleCheckTimeoutId).toBeNull();
    } finally {
      q.destroy();
    }
  });

  it('still re-checks a pending request after a broker throttle ends', () => {
    jest.useFakeTimers();
    const q = queue();
    try {
      q.throttledUntil = Date.now() + 50;
      const sent: string[] = [];
      q.pending.push({ send: () => sent.push('sent'), expectResponse: true, correlationId: 1 });
      q.checkPendingRequests();
      expect(q.throttleCheckTimeoutId).not.toBeNull();
      jest.advanceTimersByTime(60);
      expect(sent).toEqual(['sent']);
    } finally {
      q.destroy();
      jest.useRealTimers();
    }
  });
});

/**
 * The same patch makes kafkajs's protocol Encoder take its buffers from Node's pool (`Buffer.allocUnsafe`) instead of
 * zero-filled fresh memory (`Buffer.alloc`): ~13% of a producing service's CPU. Pooled memory holds old bytes, so
 * an encoder must only ever expose what it wrote.
 */
describe('kafkajs Encoder (patched)', () => {
  const Encoder = require('kafkajs/src/protocol/encoder') as new (initialSize?: number) => {
    writeInt8(v: number): unknown;
    writeInt32(v: number): unknown;
    writeString(v: string): unknown;
    writeBytes(v: Buffer): unknown;
    writeVarIntBytes(v: Buffer | null): unknown;
    buffer: Buffer;
  };

  it('exposes exactly the bytes written, whatever the pooled memory held before', () => {
    for (let i = 0; i < 8; i++) Buffer.allocUnsafe(1024).fill(0xab); // leave garbage in the pool
    const e = new Encoder();
    e.writeInt8(1);
    e.writeInt32(7);
    e.writeString('hi');
    e.writeBytes(Buffer.from([1, 2]));
    e.writeVarIntBytes(null);
    expect([...e.buffer]).toEqual([1, 0, 0, 0, 7, 0, 2, 104, 105, 0, 0, 0, 2, 1, 2, 1]);
  });

  it('keeps what it wrote when it grows past its first buffer', () => {
    const e = new Encoder(4);
    const big = Buffer.alloc(5000, 7);
    e.writeInt32(1);
    e.writeBytes(big);
    expect(e.buffer.length).toBe(4 + 4 + 5000);
    expect(e.buffer.subarray(0, 8)).toEqual(Buffer.from([0, 0, 0, 1, 0, 0, 19, 136]));
    expect(e.buffer.subarray(8).every((b) => b === 7)).toBe(true);
  });
});
