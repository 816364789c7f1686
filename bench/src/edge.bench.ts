import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { DevIssuer, defaultAuthDir } from '@tessera/auth';
import { Client as PgClient } from 'pg';
import { REPO_ROOT } from '../../infra/local/topology';
import { type BenchChild, startTsChild } from './harness/child';
import { httpLoad, type HttpLoadOptions, type HttpLoadResult } from './harness/http-load';
import { profileService } from './harness/profile';
import type { CaseResources } from './harness/resources';
import { fmtRatio, ratio, round, sandwich } from './harness/stats';
import type { Benchmark, BenchContext } from './harness/types';

const CONNECTIONS = 32;
const SERVER = join(REPO_ROOT, 'bench/src/edge/bare-fastify.server.ts');
const GRPC_SERVER = join(REPO_ROOT, 'bench/src/edge/bare-grpc.server.ts');
const TLS_DIR = process.env['TESSERA_TLS_DIR'] || join(REPO_ROOT, '.tessera', 'tls');
/** The bench tenant of the insights route: its windows are seeded before and deleted after. */
const INSIGHTS_TENANT = 'bench-edge';
const INSIGHTS_WINDOWS = 60;
/** Tracing off the way an operator turns it off: the standard sampler and exporter variables. */
const TRACING_OFF = { OTEL_TRACES_SAMPLER: 'always_off', OTEL_TRACES_EXPORTER: 'none' };
/** The read path crosses these two; both get the tracing setting of the case. */
const READ_PATH = ['gateway', 'transactions'];

type Route = 'read' | 'write' | 'insights';

interface Case {
  label: string;
  system: string;
  baseline: boolean;
  /** The route (read, write, insights): each case is compared with its route's bare fastify+pg baseline. */
  route: Route;
  load: HttpLoadResult;
  resources: CaseResources;
}

async function openAccount(gateway: string, auth: string): Promise<string> {
  const res = await fetch(`${gateway}/v1/accounts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: auth, 'idempotency-key': `bench-edge-${randomUUID()}` },
    body: JSON.stringify({
      ownerId: 'bench-edge-reader',
      name: 'Bench read target',
      type: 'ASSET',
      currency: 'EUR',
      overdraftLimitMinor: '0',
    }),
  });
  const body = (await res.json()) as { id?: string };
  if (res.status !== 201 || !body.id) throw new Error(`POST /v1/accounts answered ${res.status}: ${JSON.stringify(body)}`);
  return body.id;
}

/**
 * Seeds INSIGHTS_WINDOWS tumbling 10 s windows of the bench tenant in the insights read model (as insights stores them)
 * and returns the query both the gateway and the bare service are asked: one series, explicit range, 10 s resolution.
 */
async function seedInsights(url: string): Promise<string> {
  const db = new PgClient({ connectionString: url });
  await db.connect();
  try {
    await db.query('DELETE FROM window_aggregates WHERE tenant_id = $1', [INSIGHTS_TENANT]);
    const start = Math.floor(Date.now() / 10_000) * 10_000 - INSIGHTS_WINDOWS * 10_000;
    for (let i = 0; i < INSIGHTS_WINDOWS; i++) {
      const from = new Date(start + i * 10_000);
      await db.query(
        `INSERT INTO window_aggregates (window_key, tenant_id, stream_id, metric, dimension_key, dimension_value, window_size_seconds, window_slide_seconds,
           window_start, window_end, count, sum, min, max, p50, p95, p99, distinct_count, late_events, revision, final, producer, computed_at)
         VALUES ($1, $2, 'bench', 'latency_ms', '', '', 10, 10, $3, $4, 100, 5000, 1, 99, 50, 95, 99, 42, 0, 3, true, 'bench', now())`,
        [`${INSIGHTS_TENANT}|bench|latency_ms|||10|10|${from.getTime()}`, INSIGHTS_TENANT, from, new Date(from.getTime() + 10_000)],
      );
    }
    const to = new Date(start + INSIGHTS_WINDOWS * 10_000);
    return `/v1/insights/aggregates?tenantId=${INSIGHTS_TENANT}&streamId=bench&metric=latency_ms&resolution=10&from=${new Date(start).toISOString()}&to=${to.toISOString()}`;
  } finally {
    await db.end();
  }
}

async function dropInsights(url: string): Promise<void> {
  const db = new PgClient({ connectionString: url });
  await db.connect();
  await db.query('DELETE FROM window_aggregates WHERE tenant_id = $1', [INSIGHTS_TENANT]).finally(() => db.end());
}

/**
 * The edge: `GET /v1/accounts/{id}` through the gateway (auth, validation, rate limiter, gRPC with mTLS to
 * transactions, Prisma, PostgreSQL) at the platform's default tracing and with tracing off, beside a bare Fastify + pg
 * service reading the same row, a bare Fastify returning the same bytes, and the bare two-hop floor (bare Fastify ->
 * bare gRPC server over mTLS -> pg); then a write route (`POST /v1/accounts`) and `GET /v1/insights/aggregates`, each
 * beside a bare Fastify + pg service doing the route's minimum. Closed loop, fixed connections; the read baselines are
 * sandwiched (before and after).
 */
export const edgeBenchmark: Benchmark = {
  id: 'edge',
  title: 'Edge: gateway read, write and insights routes vs bare Fastify + pg',
  async run(ctx: BenchContext) {
    const gateway = `http://127.0.0.1:${ctx.platform.portOf('gateway')}`;
    const issuer = await DevIssuer.open(process.env['TESSERA_AUTH_DIR'] || defaultAuthDir());
    const auth = `Bearer ${await issuer.mint({ sub: 'bench-edge', roles: ['operator'], ttlSec: 3600 })}`;
    const insightsAuth = `Bearer ${await issuer.mint({ sub: 'bench-edge-ingest', roles: ['ingest'], tenant: INSIGHTS_TENANT, ttlSec: 3600 })}`;
    const id = await openAccount(gateway, auth);
    const first = await fetch(`${gateway}/v1/accounts/${id}`, { headers: { authorization: auth } });
    const bytes = await first.text();
    if (first.status !== 200) throw new Error(`GET /v1/accounts/${id} answered ${first.status}: ${bytes}`);
    const path = `/v1/accounts/${id}`;
    const transactionsDb = ctx.platform.env('transactions')['TRANSACTIONS_DATABASE_URL'] ?? '';
    const insightsDb = ctx.platform.env('insights')['INSIGHTS_DATABASE_URL'] ?? '';
    const seconds = ctx.seconds(10);
    const warmupSeconds = ctx.smoke ? 0 : 2;
    const cases: Case[] = [];

    const children: BenchChild[] = [];
    try {
      const insightsPath = await seedInsights(insightsDb);
      const check = await fetch(`${gateway}${insightsPath}`, { headers: { authorization: insightsAuth } });
      const insightsBody = (await check.json()) as { items?: unknown[] };
      if (check.status !== 200 || insightsBody.items?.length !== INSIGHTS_WINDOWS)
        throw new Error(`GET ${insightsPath} answered ${check.status}: ${JSON.stringify(insightsBody).slice(0, 300)}`);

      const start = async (script: string, env: Record<string, string>) => {
        const c = await startTsChild(script, { BARE_TLS_DIR: TLS_DIR, ...env }, /^listening (\d+)/);
        children.push(c);
        return { port: Number(c.match[1]), pid: c.pid };
      };
      const bare = async (mode: string, url: string, extra: Record<string, string> = {}) => {
        const c = await start(SERVER, { BARE_MODE: mode, BARE_BODY: bytes, BARE_DATABASE_URL: url, ...extra });
        return { base: `http://127.0.0.1:${c.port}`, pid: c.pid };
      };
      const pgServer = await bare('pg', transactionsDb);
      const bytesServer = await bare('bytes', '');
      const grpcBack = await start(GRPC_SERVER, { BARE_DATABASE_URL: transactionsDb });
      const grpcFront = await bare('grpc', '', { BARE_GRPC_ADDR: `127.0.0.1:${grpcBack.port}` });
      const openServer = await bare('open', transactionsDb);
      const aggregatesServer = await bare('aggregates', insightsDb);
      for (const [name, url] of [
        ['bare fastify+pg', `${pgServer.base}${path}`],
        ['bare two hops', `${grpcFront.base}${path}`],
        ['bare aggregates', `${aggregatesServer.base}${insightsPath}`],
      ] as const) {
        const res = await fetch(url);
        if (res.status !== 200) throw new Error(`${name} answered ${res.status}: ${await res.text()}`);
      }

      const run = async (
        label: string,
        system: string,
        route: Route,
        baseline: boolean,
        url: string,
        extra: { name: string; pid: number }[],
        load: Partial<HttpLoadOptions> = {},
      ) => {
        ctx.log(`${label}: ${CONNECTIONS} connections, ${seconds}s`);
        const { value, resources } = await ctx.measure(
          `edge: ${label}`,
          () => httpLoad({ url, connections: CONNECTIONS, seconds, warmupSeconds, ...load }),
          extra,
        );
        ctx.log(
          `${label}: ${value.reqPerSec} req/s, p50 ${value.p50Ms} ms, p99 ${value.p99Ms} ms, non-2xx ${value.non2xx}, errors ${value.errors}`,
        );
        cases.push({ label, system, route, baseline, load: value, resources });
        return value;
      };
      const gw = { headers: { authorization: auth } };
      const bareCpu = (name: string, pid: number) => [{ name, pid }];
      // Account opening: a new Idempotency-Key per request (the gateway requires one); the bare service needs none.
      const opening = (headers: Record<string, string>): Partial<HttpLoadOptions> => ({
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        setupRequest: (req) => ({
          ...req,
          method: 'POST',
          headers: { ...req.headers, 'idempotency-key': `bench-edge-open-${randomUUID()}` },
          body: JSON.stringify({
            ownerId: 'bench-edge-writer',
            name: 'Bench write',
            type: 'ASSET',
            currency: 'EUR',
            overdraftLimitMinor: '0',
          }),
        }),
      });

      const pg1 = await run(
        'bare fastify+pg (before)',
        'bare-pg',
        'read',
        true,
        `${pgServer.base}${path}`,
        bareCpu('bare-fastify-pg', pgServer.pid),
      );
      const by1 = await run(
        'bare fastify bytes (before)',
        'bare-bytes',
        'read',
        true,
        `${bytesServer.base}${path}`,
        bareCpu('bare-fastify-bytes', bytesServer.pid),
      );
      const traced = await run('gateway, default tracing', 'gateway', 'read', false, `${gateway}${path}`, [], gw);
      await ctx.platform.restart(READ_PATH, TRACING_OFF);
      const untraced = await run('gateway, tracing off', 'gateway-untraced', 'read', false, `${gateway}${path}`, [], gw);
      await ctx.platform.restart(READ_PATH);
      const hops = await run('bare two hops: fastify -> gRPC mTLS -> pg', 'bare-two-hops', 'read', true, `${grpcFront.base}${path}`, [
        { name: 'bare-two-hops-front', pid: grpcFront.pid },
        { name: 'bare-two-hops-grpc', pid: grpcBack.pid },
      ]);
      const pg2 = await run(
        'bare fastify+pg (after)',
        'bare-pg',
        'read',
        true,
        `${pgServer.base}${path}`,
        bareCpu('bare-fastify-pg', pgServer.pid),
      );
      const by2 = await run(
        'bare fastify bytes (after)',
        'bare-bytes',
        'read',
        true,
        `${bytesServer.base}${path}`,
        bareCpu('bare-fastify-bytes', bytesServer.pid),
      );
      const bareOpen = await run(
        'bare fastify+pg: POST /v1/accounts (INSERT)',
        'bare-open',
        'write',
        true,
        `${openServer.base}/v1/accounts`,
        bareCpu('bare-fastify-open', openServer.pid),
        opening({}),
      );
      const gwOpen = await run(
        'gateway: POST /v1/accounts, default tracing',
        'gateway-open',
        'write',
        false,
        `${gateway}/v1/accounts`,
        [],
        opening({ authorization: auth }),
      );
      const bareAgg = await run(
        'bare fastify+pg: GET /v1/insights/aggregates',
        'bare-aggregates',
        'insights',
        true,
        `${aggregatesServer.base}${insightsPath}`,
        bareCpu('bare-fastify-aggregates', aggregatesServer.pid),
      );
      const gwAgg = await run(
        'gateway: GET /v1/insights/aggregates, default tracing',
        'gateway-aggregates',
        'insights',
        false,
        `${gateway}${insightsPath}`,
        [],
        { headers: { authorization: insightsAuth } },
      );

      const pg = sandwich(pg1.reqPerSec, pg2.reqPerSec);
      const by = sandwich(by1.reqPerSec, by2.reqPerSec);
      const baselineOf: Record<Route, number> = { read: pg.mean, write: bareOpen.reqPerSec, insights: bareAgg.reqPerSec };
      const readCase = cases.find((c) => c.system === 'gateway');
      const busiest = (['gateway', 'transactions'] as const).reduce((a, b) =>
        (readCase?.resources.cpuSeconds[a] ?? 0) >= (readCase?.resources.cpuSeconds[b] ?? 0) ? a : b,
      );
      ctx.log(`profiling ${busiest} under the read load (${ctx.seconds(8)}s)`);
      const profile = await profileService(ctx.platform, busiest, join(ctx.profileDir, 'edge'), () =>
        httpLoad({ url: `${gateway}${path}`, connections: CONNECTIONS, seconds: ctx.seconds(8), warmupSeconds: 0, ...gw }),
      );

      const perReq = (c: Case, ...names: string[]) => {
        const cpus = names.map((n) => c.resources.cpuSeconds[n]).filter((x): x is number => x !== undefined);
        return cpus.length === 0 || c.load.requests === 0 ? '-' : round((cpus.reduce((a, b) => a + b, 0) / c.load.requests) * 1e6, 0);
      };
      const bareNames = (c: Case) =>
        c.system === 'bare-two-hops' ? ['bare-two-hops-front', 'bare-two-hops-grpc'] : [`bare-fastify-${c.system.replace('bare-', '')}`];
      const ratios = {
        'gateway / bare fastify+pg': ratio(traced.reqPerSec, pg.mean),
        'gateway (tracing off) / bare fastify+pg': ratio(untraced.reqPerSec, pg.mean),
        'gateway / bare fastify bytes': ratio(traced.reqPerSec, by.mean),
        'bare two hops / bare fastify+pg': ratio(hops.reqPerSec, pg.mean),
        'gateway / bare two hops': ratio(traced.reqPerSec, hops.reqPerSec),
        'gateway POST /v1/accounts / bare INSERT': ratio(gwOpen.reqPerSec, bareOpen.reqPerSec),
        'gateway insights aggregates / bare fastify+pg': ratio(gwAgg.reqPerSec, bareAgg.reqPerSec),
      };
      return {
        id: 'edge',
        title: this.title,
        method: `autocannon, ${CONNECTIONS} connections, closed loop, ${warmupSeconds} s warm-up then ${seconds} s measured per case, keep-alive. Read: the same account row every request. Write: POST /v1/accounts with a new Idempotency-Key and the same body each request (the gateway's opening writes the account, its idempotency record, an audit record and an outbox event in one transaction; the bare one INSERTs the row). Insights: one series of ${INSIGHTS_WINDOWS} seeded 10 s windows of tenant ${INSIGHTS_TENANT} (one page). Gateway requests carry a bearer token verified per request (operator; insights: an ingest-role token of the tenant); bare services have no auth. Gateway rate limits raised for the bench (the limiter still runs). Each route's ratio is to its own bare baseline.`,
        table: {
          columns: [
            'case',
            'req/s',
            'p50 ms',
            'p99 ms',
            'non-2xx',
            'errors',
            'vs its bare baseline',
            'CPU µs/req gateway',
            'CPU µs/req transactions',
            'CPU µs/req insights',
            'CPU µs/req postgres',
            'CPU µs/req bare server(s)',
            'load gen CPU s',
          ],
          rows: cases.map((c) => [
            c.label,
            c.load.reqPerSec,
            c.load.p50Ms,
            c.load.p99Ms,
            c.load.non2xx,
            c.load.errors,
            fmtRatio(ratio(c.load.reqPerSec, baselineOf[c.route])),
            perReq(c, 'gateway'),
            perReq(c, 'transactions'),
            perReq(c, 'insights'),
            perReq(c, 'postgres'),
            c.baseline ? perReq(c, ...bareNames(c)) : '-',
            c.resources.benchCpuSeconds,
          ]),
        },
        chart: {
          title: `Edge routes, ${CONNECTIONS} connections: requests/s`,
          unit: 'req/s',
          bars: [
            { label: 'read: bare fastify (same bytes)', value: by.mean, baseline: true },
            { label: 'read: bare fastify + pg', value: pg.mean, baseline: true },
            { label: 'read: bare two hops (gRPC mTLS)', value: hops.reqPerSec, baseline: true },
            { label: 'read: gateway, tracing off', value: untraced.reqPerSec, baseline: false },
            { label: 'read: gateway, default tracing', value: traced.reqPerSec, baseline: false },
            { label: 'write: bare fastify + pg', value: bareOpen.reqPerSec, baseline: true },
            { label: 'write: gateway', value: gwOpen.reqPerSec, baseline: false },
            { label: 'insights: bare fastify + pg', value: bareAgg.reqPerSec, baseline: true },
            { label: 'insights: gateway', value: gwAgg.reqPerSec, baseline: false },
          ],
        },
        ratios,
        notes: [
          `Baseline spread (before vs after): bare fastify+pg ${Math.round(pg.spread * 100)}%${pg.noisy ? ' NOISY (>15%): re-run before publishing' : ''}, bare fastify bytes ${Math.round(by.spread * 100)}%${by.noisy ? ' NOISY (>15%): re-run before publishing' : ''}.`,
          `Default tracing = the topology's settings (OTEL_TRACES_SAMPLER=tessera_tail: every span recorded; errors, slow requests, the first 10 requests/s and 1% of the rest exported to the local Zipkin, libs/telemetry/README.md); tracing off = ${Object.entries(
            TRACING_OFF,
          )
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')} on ${READ_PATH.join(' and ')}.`,
          "Bare two hops = the platform's shape without its framework: a bare Fastify calls a bare @grpc/grpc-js server over mTLS (the gateway and transactions certificates), which reads the row with pg; JSON bytes instead of protobuf, no NestJS, auth, validation, rate limiter, tracing or Prisma (bench/src/edge/bare-grpc.server.ts).",
          '',
          ...profile.notes,
        ],
        commands: [
          `autocannon -c ${CONNECTIONS} -d ${seconds} -H 'authorization: Bearer <operator token>' ${gateway}${path.replace(id, '{id}')}   (in process: bench/src/harness/http-load.ts)`,
          `autocannon -c ${CONNECTIONS} -d ${seconds} -m POST -H 'idempotency-key: <new per request>' ${gateway}/v1/accounts`,
          `autocannon -c ${CONNECTIONS} -d ${seconds} -H 'authorization: Bearer <ingest token of ${INSIGHTS_TENANT}>' '${gateway}${insightsPath}'`,
          `BARE_MODE=pg|bytes|grpc|open|aggregates node --import tsx bench/src/edge/bare-fastify.server.ts; node --import tsx bench/src/edge/bare-grpc.server.ts`,
          `tracing off: restart ${READ_PATH.join(', ')} with ${Object.entries(TRACING_OFF)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}`,
          `profile: ${busiest} (running process, V8 inspector via SIGUSR1), ${ctx.seconds(8)} s of the read load`,
        ],
        raw: {
          accountId: id,
          insightsPath,
          cases,
          baselines: { pg, bytes: by, twoHops: hops.reqPerSec, open: bareOpen.reqPerSec, aggregates: bareAgg.reqPerSec },
        },
      };
    } finally {
      await Promise.all(children.map((c) => c.stop()));
      await dropInsights(insightsDb).catch(() => undefined);
    }
  },
};
