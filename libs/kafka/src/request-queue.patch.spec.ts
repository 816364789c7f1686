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
  return new RequestQueue({ maxInFlightRequests: 1, requestTimeout: 30_000, enforceRequestTimeout: false, clientId: 'spec', broker: 'localhost:1', logger: quiet });
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
