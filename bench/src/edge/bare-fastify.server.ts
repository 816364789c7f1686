/**
 * The edge baselines, as a separate process so its CPU and memory are its own:
 *   BARE_MODE=pg          GET /v1/accounts/:id reads the same row with `pg` (pool of 10, one indexed SELECT) and
 *                         returns the gateway's JSON shape: the minimum work the route needs.
 *   BARE_MODE=bytes       returns BARE_BODY (the gateway's response bytes for the same account): the HTTP floor.
 *   BARE_MODE=grpc        GET /v1/accounts/:id asks bare-grpc.server.ts at BARE_GRPC_ADDR over gRPC with mTLS (the
 *                         gateway's certificate): the platform's two-hop shape without any of its framework.
 *   BARE_MODE=open        POST /v1/accounts inserts the row (one INSERT ... RETURNING) and answers 201 with it.
 *   BARE_MODE=aggregates  GET /v1/insights/aggregates: the series query insights runs (tumbling windows of one size of
 *                         one tenant, stream, metric and dimension in [from, to), by start, 100 + 1 rows) with `pg` on
 *                         BARE_DATABASE_URL (the insights database).
 * No auth, no validation, no tracing: what a hand-written service without the platform would do.
 * Prints "listening <port>" when ready.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import Fastify from 'fastify';
import { Pool } from 'pg';
import { ACCOUNT_SQL, accountJson, BARE_GET_ACCOUNT, OPEN_ACCOUNT_SQL } from './bare-account';

const mode = process.env['BARE_MODE'] ?? 'pg';
const app = Fastify({ logger: false });
const body = process.env['BARE_BODY'] ?? '{}';
const pool = ['pg', 'open', 'aggregates'].includes(mode)
  ? new Pool({ connectionString: process.env['BARE_DATABASE_URL'], max: 10 })
  : undefined;

const SERIES_SQL = `SELECT window_key, stream_id, metric, dimension_key, dimension_value, window_size_seconds, window_start, window_end, count, sum, min,
  max, p50, p95, p99, distinct_count, late_events, revision, final, computed_at FROM window_aggregates
  WHERE tenant_id = $1 AND dimension_key = $2 AND window_start >= $3 AND window_start < $4 AND window_slide_seconds = window_size_seconds
  AND stream_id = $5 AND metric = $6 AND window_size_seconds = $7 ORDER BY window_start, window_key LIMIT 101`;

function grpcClient(): grpc.Client & { getAccount: (id: Buffer, cb: (err: grpc.ServiceError | null, res?: Buffer) => void) => void } {
  const tls = process.env['BARE_TLS_DIR'] ?? '.tessera/tls';
  const identity = (b: Buffer) => b;
  const Ctor = grpc.makeGenericClientConstructor(
    {
      getAccount: {
        path: BARE_GET_ACCOUNT,
        requestStream: false,
        responseStream: false,
        requestSerialize: identity,
        requestDeserialize: identity,
        responseSerialize: identity,
        responseDeserialize: identity,
      },
    },
    'Bare',
  );
  const creds = grpc.credentials.createSsl(
    readFileSync(join(tls, 'ca.crt')),
    readFileSync(join(tls, 'gateway.key')),
    readFileSync(join(tls, 'gateway.crt')),
  );
  return new Ctor(process.env['BARE_GRPC_ADDR'] ?? '127.0.0.1:0', creds, { 'grpc.ssl_target_name_override': 'transactions' }) as never;
}

if (mode === 'grpc') {
  const client = grpcClient();
  app.get<{ Params: { id: string } }>('/v1/accounts/:id', (req, reply) => {
    client.getAccount(Buffer.from(req.params.id), (err, res) => {
      if (err) void reply.code(err.code === grpc.status.NOT_FOUND ? 404 : 503).send({ code: err.code });
      else void reply.type('application/json').send(res);
    });
  });
} else if (mode === 'open') {
  app.post<{ Body: { ownerId: string; name: string; currency: string; type: string } }>('/v1/accounts', async (req, reply) => {
    const { ownerId, name, currency, type } = req.body;
    const { rows } = await (pool as Pool).query({ name: 'open-account', text: OPEN_ACCOUNT_SQL, values: [ownerId, name, currency, type] });
    return reply.code(201).send(accountJson(rows[0] as Record<string, unknown>));
  });
} else if (mode === 'aggregates') {
  app.get<{ Querystring: Record<string, string> }>('/v1/insights/aggregates', async (req) => {
    const q = req.query;
    const values = [
      q['tenantId'],
      q['dimensionKey'] ?? '',
      new Date(q['from'] ?? 0),
      new Date(q['to'] ?? Date.now()),
      q['streamId'],
      q['metric'],
      Number(q['resolution']),
    ];
    const { rows } = await (pool as Pool).query({ name: 'series', text: SERIES_SQL, values });
    const items = rows.slice(0, 100).map((r: Record<string, unknown>) => ({
      windowKey: r['window_key'],
      streamId: r['stream_id'],
      metric: r['metric'],
      dimensionKey: r['dimension_key'],
      dimensionValue: r['dimension_value'],
      windowSizeSeconds: r['window_size_seconds'],
      windowStart: (r['window_start'] as Date).toISOString(),
      windowEnd: (r['window_end'] as Date).toISOString(),
      count: String(r['count']),
      sum: r['sum'],
      min: r['min'],
      max: r['max'],
      p50: r['p50'],
      p95: r['p95'],
      p99: r['p99'],
      distinct: String(r['distinct_count']),
      lateEvents: String(r['late_events']),
      revision: String(r['revision']),
      final: r['final'],
      computedAt: (r['computed_at'] as Date).toISOString(),
    }));
    return { items, nextPageToken: rows.length > 100 ? 'more' : null };
  });
} else {
  app.get<{ Params: { id: string } }>('/v1/accounts/:id', async (req, reply) => {
    if (!pool) return reply.type('application/json').send(body);
    const { rows } = await pool.query({ name: 'account-by-id', text: ACCOUNT_SQL, values: [req.params.id] });
    const r = rows[0] as Record<string, unknown> | undefined;
    if (!r) return reply.code(404).send({ code: 'NOT_FOUND' });
    return accountJson(r);
  });
}

app.listen({ host: '127.0.0.1', port: Number(process.env['BARE_PORT'] ?? 0) }).then(
  () => {
    const addr = app.server.address();
    console.log(`listening ${typeof addr === 'object' && addr ? addr.port : ''}`);
  },
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
process.on('SIGTERM', () => {
  void app
    .close()
    .then(() => pool?.end())
    .then(() => process.exit(0));
});
