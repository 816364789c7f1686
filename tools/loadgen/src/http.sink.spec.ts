import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateEvents } from './generate';
import { DeliveryError, HttpSink } from './http.sink';
import { ApiKeys } from './sink';

interface Seen {
  apiKey: string | undefined;
  events: { eventId: string }[];
}

/** A real HTTP server standing in for the gateway; `respond` decides each answer. */
async function gateway(respond: (seen: Seen, n: number) => { status: number; headers?: Record<string, string>; body?: unknown }) {
  const seen: Seen[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      const entry = { apiKey: req.headers['x-api-key'] as string | undefined, events: (JSON.parse(raw) as Seen).events };
      seen.push(entry);
      const answer = respond(entry, seen.length);
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(JSON.stringify(answer.body ?? {}));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const batch = generateEvents({ seed: 1, count: 5, startTime: Date.parse('2030-01-01T00:00:00Z') });

describe('HttpSink', () => {
  describe('send', () => {
    it('posts the batch with the tenant key and returns accepted and rejections', async () => {
      const gw = await gateway(() => ({
        status: 200,
        body: { accepted: 4, rejections: [{ index: 2, eventId: 'x', code: 'INGEST.INVALID_ID', reason: 'bad' }] },
      }));
      try {
        const sink = new HttpSink({ target: gw.url, keys: ApiKeys.parse('demo:demo-key,acme:acme-key') });
        const result = await sink.send('acme', batch);
        expect(result).toEqual({ accepted: 4, rejections: [{ index: 2, eventId: 'x', code: 'INGEST.INVALID_ID', reason: 'bad' }] });
        expect(gw.seen[0]!.apiKey).toBe('acme-key');
        expect(gw.seen[0]!.events.map((e) => e.eventId)).toEqual(batch.map((g) => g.event.eventId));
      } finally {
        await gw.close();
      }
    });

    it('waits for Retry-After on 503 and resends the same events', async () => {
      const gw = await gateway((_seen, n) =>
        n === 1 ? { status: 503, headers: { 'retry-after': '1' } } : { status: 200, body: { accepted: 5, rejections: [] } },
      );
      try {
        const retries: number[] = [];
        const sink = new HttpSink({ target: gw.url, keys: ApiKeys.parse('demo-key') });
        const started = Date.now();
        const result = await sink.send('demo', batch, { onRetry: (_reason, waitMs) => retries.push(waitMs) });
        expect(result.accepted).toBe(5);
        expect(retries).toEqual([1000]);
        expect(Date.now() - started).toBeGreaterThanOrEqual(950);
        expect(gw.seen).toHaveLength(2);
        expect(gw.seen[1]!.events).toEqual(gw.seen[0]!.events);
      } finally {
        await gw.close();
      }
    });

    it('counts a batch refused as a whole (400) as rejected with the problem code', async () => {
      const gw = await gateway(() => ({ status: 400, body: { code: 'HTTP.INVALID_BODY' } }));
      try {
        const result = await new HttpSink({ target: gw.url, keys: ApiKeys.parse('demo-key') }).send('demo', batch);
        expect(result.accepted).toBe(0);
        expect(result.rejections.map((r) => r.code)).toEqual(new Array(5).fill('HTTP.INVALID_BODY'));
      } finally {
        await gw.close();
      }
    });

    it('fails with a DeliveryError on 401 instead of dropping the events', async () => {
      const gw = await gateway(() => ({ status: 401, body: { code: 'AUTH.UNAUTHENTICATED' } }));
      try {
        await expect(new HttpSink({ target: gw.url, keys: ApiKeys.parse('wrong') }).send('demo', batch)).rejects.toBeInstanceOf(
          DeliveryError,
        );
      } finally {
        await gw.close();
      }
    });
  });
});
