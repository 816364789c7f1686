/**
 * The edge read baselines, as a separate process so its CPU and memory are its own:
 *   BARE_MODE=pg     GET /v1/accounts/:id reads the same row with `pg` (pool of 10, one indexed SELECT) and
 *                    returns the gateway's JSON shape: the minimum work the route needs.
 *   BARE_MODE=bytes  returns BARE_BODY (the gateway's response bytes for the same account): the HTTP floor.
 * No auth, no validation, no tracing: what a hand-written service without the platform would do.
 * Prints "listening <port>" when ready.
 */
import Fastify from 'fastify';
import { Pool } from 'pg';

const mode = process.env['BARE_MODE'] ?? 'pg';
const app = Fastify({ logger: false });
const body = process.env['BARE_BODY'] ?? '{}';
const pool = mode === 'pg' ? new Pool({ connectionString: process.env['BARE_DATABASE_URL'], max: 10 }) : undefined;

const SQL =
  'SELECT id, owner_id, name, type, currency, status, overdraft_limit_minor, version, created_at FROM accounts WHERE id = $1';

app.get<{ Params: { id: string } }>('/v1/accounts/:id', async (req, reply) => {
  if (!pool) return reply.type('application/json').send(body);
  const { rows } = await pool.query({ name: 'account-by-id', text: SQL, values: [req.params.id] });
  const r = rows[0] as Record<string, unknown> | undefined;
  if (!r) return reply.code(404).send({ code: 'NOT_FOUND' });
  return {
    id: r['id'],
    ownerId: r['owner_id'],
    name: r['name'],
    type: r['type'],
    currency: r['currency'],
    status: r['status'],
    overdraftLimitMinor: String(r['overdraft_limit_minor']),
    version: String(r['version']),
    createdAt: (r['created_at'] as Date).toISOString(),
  };
});

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
  void app.close().then(() => pool?.end()).then(() => process.exit(0));
});
