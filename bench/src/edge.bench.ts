import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { DevIssuer, defaultAuthDir } from '@tessera/auth';
import { REPO_ROOT } from '../../infra/local/topology';
import { type BenchChild, startTsChild } from './harness/child';
import { httpLoad, type HttpLoadResult } from './harness/http-load';
import { profileService } from './harness/profile';
import type { CaseResources } from './harness/resources';
import { fmtRatio, ratio, round, sandwich } from './harness/stats';
import type { Benchmark, BenchContext } from './harness/types';

const CONNECTIONS = 32;
const SERVER = join(REPO_ROOT, 'bench/src/edge/bare-fastify.server.ts');
/** Tracing off the way an operator turns it off: the standard sampler and exporter variables. */
const TRACING_OFF = { OTEL_TRACES_SAMPLER: 'always_off', OTEL_TRACES_EXPORTER: 'none' };
/** The read path crosses these two; both get the tracing setting of the case. */
const READ_PATH = ['gateway', 'transactions'];

interface Case {
  label: string;
  system: string;
  baseline: boolean;
  load: HttpLoadResult;
  resources: CaseResources;
}

async function openAccount(gateway: string, auth: string): Promise<string> {
  const res = await fetch(`${gateway}/v1/accounts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: auth, 'idempotency-key': `bench-edge-${randomUUID()}` },
    body: JSON.stringify({ ownerId: 'bench-edge-reader', name: 'Bench read target', type: 'ASSET', currency: 'EUR', overdraftLimitMinor: '0' }),
  });
  const body = (await res.json()) as { id?: string };
  if (res.status !== 201 || !body.id) throw new Error(`POST /v1/accounts answered ${res.status}: ${JSON.stringify(body)}`);
  return body.id;
}

/**
 * Edge read: `GET /v1/accounts/{id}` through the gateway (auth, validation, rate limiter, gRPC with mTLS to
 * transactions, Prisma, PostgreSQL) at the platform's default tracing and with tracing off, beside a bare
 * Fastify + pg service reading the same row and a bare Fastify returning the same bytes. Closed loop, fixed
 * connections, sandwich: baselines before and after.
 */
export const edgeBenchmark: Benchmark = {
  id: 'edge',
  title: 'Edge read: gateway GET /v1/accounts/{id} vs bare Fastify + pg vs bare Fastify',
  async run(ctx: BenchContext) {
    const gateway = `http://127.0.0.1:${ctx.platform.portOf('gateway')}`;
    const issuer = await DevIssuer.open(process.env['TESSERA_AUTH_DIR'] || defaultAuthDir());
    const auth = `Bearer ${await issuer.mint({ sub: 'bench-edge', roles: ['operator'], ttlSec: 3600 })}`;
    const id = await openAccount(gateway, auth);
    const first = await fetch(`${gateway}/v1/accounts/${id}`, { headers: { authorization: auth } });
    const bytes = await first.text();
    if (first.status !== 200) throw new Error(`GET /v1/accounts/${id} answered ${first.status}: ${bytes}`);
    const path = `/v1/accounts/${id}`;
    const seconds = ctx.seconds(10);
    const warmupSeconds = ctx.smoke ? 0 : 2;
    const cases: Case[] = [];

    const children: BenchChild[] = [];
    try {
      const bare = async (mode: 'pg' | 'bytes') => {
        const c = await startTsChild(SERVER, { BARE_MODE: mode, BARE_BODY: bytes, BARE_DATABASE_URL: ctx.platform.env('transactions')['TRANSACTIONS_DATABASE_URL'] ?? '' }, /^listening (\d+)/);
        children.push(c);
        return { url: `http://127.0.0.1:${c.match[1]}${path}`, pid: c.pid };
      };
      const pgServer = await bare('pg');
      const bytesServer = await bare('bytes');
      const check = await fetch(pgServer.url);
      if (check.status !== 200) throw new Error(`bare fastify+pg answered ${check.status}`);

      const run = async (label: string, system: string, baseline: boolean, url: string, extra: { name: string; pid: number }[], headers: Record<string, string> = {}) => {
        ctx.log(`${label}: ${CONNECTIONS} connections, ${seconds}s`);
        const { value, resources } = await ctx.measure(`edge: ${label}`, () => httpLoad({ url, connections: CONNECTIONS, seconds, warmupSeconds, headers }), extra);
        ctx.log(`${label}: ${value.reqPerSec} req/s, p50 ${value.p50Ms} ms, p99 ${value.p99Ms} ms, non-2xx ${value.non2xx}, errors ${value.errors}`);
        cases.push({ label, system, baseline, load: value, resources });
        return value;
      };
      const gw = { authorization: auth };
      const pg1 = await run('bare fastify+pg (before)', 'bare-pg', true, pgServer.url, [{ name: 'bare-fastify-pg', pid: pgServer.pid }]);
      const by1 = await run('bare fastify bytes (before)', 'bare-bytes', true, bytesServer.url, [{ name: 'bare-fastify-bytes', pid: bytesServer.pid }]);
      const traced = await run('gateway, default tracing', 'gateway', false, `${gateway}${path}`, [], gw);
      await ctx.platform.restart(READ_PATH, TRACING_OFF);
      const untraced = await run('gateway, tracing off', 'gateway-untraced', false, `${gateway}${path}`, [], gw);
      await ctx.platform.restart(READ_PATH);
      const pg2 = await run('bare fastify+pg (after)', 'bare-pg', true, pgServer.url, [{ name: 'bare-fastify-pg', pid: pgServer.pid }]);
      const by2 = await run('bare fastify bytes (after)', 'bare-bytes', true, bytesServer.url, [{ name: 'bare-fastify-bytes', pid: bytesServer.pid }]);

      const pg = sandwich(pg1.reqPerSec, pg2.reqPerSec);
      const by = sandwich(by1.reqPerSec, by2.reqPerSec);
      const busiest = (['gateway', 'transactions'] as const).reduce((a, b) => ((cases[2]?.resources.cpuSeconds[a] ?? 0) >= (cases[2]?.resources.cpuSeconds[b] ?? 0) ? a : b));
      ctx.log(`profiling ${busiest} under the same load (${ctx.seconds(8)}s)`);
      const profile = await profileService(ctx.platform, busiest, join(ctx.profileDir, 'edge'), () => httpLoad({ url: `${gateway}${path}`, connections: CONNECTIONS, seconds: ctx.seconds(8), warmupSeconds: 0, headers: gw }));

      const perReq = (c: Case, name: string) => {
        const cpu = c.resources.cpuSeconds[name];
        return cpu === undefined || c.load.requests === 0 ? '-' : round((cpu / c.load.requests) * 1e6, 0);
      };
      const ratios = {
        'gateway / bare fastify+pg': ratio(traced.reqPerSec, pg.mean),
        'gateway (tracing off) / bare fastify+pg': ratio(untraced.reqPerSec, pg.mean),
        'gateway / bare fastify bytes': ratio(traced.reqPerSec, by.mean),
      };
      return {
        id: 'edge',
        title: this.title,
        method: `autocannon, ${CONNECTIONS} connections, closed loop, ${warmupSeconds} s warm-up then ${seconds} s measured per case, keep-alive, same account row every request. Gateway requests carry an operator bearer token (verified per request); bare services have no auth. Gateway rate limits raised for the bench (the limiter still runs).`,
        table: {
          columns: ['case', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors', 'vs bare fastify+pg', 'CPU µs/req gateway', 'CPU µs/req transactions', 'CPU µs/req postgres', 'CPU µs/req bare server', 'load gen CPU s'],
          rows: cases.map((c) => [
            c.label,
            c.load.reqPerSec,
            c.load.p50Ms,
            c.load.p99Ms,
            c.load.non2xx,
            c.load.errors,
            fmtRatio(ratio(c.load.reqPerSec, pg.mean)),
            perReq(c, 'gateway'),
            perReq(c, 'transactions'),
            perReq(c, 'postgres'),
            c.baseline ? perReq(c, c.system === 'bare-pg' ? 'bare-fastify-pg' : 'bare-fastify-bytes') : '-',
            c.resources.benchCpuSeconds,
          ]),
        },
        chart: {
          title: `GET /v1/accounts/{id}, ${CONNECTIONS} connections: requests/s`,
          unit: 'req/s',
          bars: [
            { label: 'bare fastify (same bytes)', value: by.mean, baseline: true },
            { label: 'bare fastify + pg', value: pg.mean, baseline: true },
            { label: 'gateway, tracing off', value: untraced.reqPerSec, baseline: false },
            { label: 'gateway, default tracing', value: traced.reqPerSec, baseline: false },
          ],
        },
        ratios,
        notes: [
          `Baseline spread (before vs after): bare fastify+pg ${Math.round(pg.spread * 100)}%${pg.noisy ? ' NOISY (>15%): re-run before publishing' : ''}, bare fastify bytes ${Math.round(by.spread * 100)}%${by.noisy ? ' NOISY (>15%): re-run before publishing' : ''}.`,
          `Default tracing = the topology's settings (OTEL_TRACES_SAMPLER=tessera_tail: every span recorded; errors, slow requests, the first 10 requests/s and 1% of the rest exported to the local Zipkin, libs/telemetry/README.md); tracing off = ${Object.entries(TRACING_OFF).map(([k, v]) => `${k}=${v}`).join(' ')} on ${READ_PATH.join(' and ')}.`,
          '',
          ...profile.notes,
        ],
        commands: [
          `autocannon -c ${CONNECTIONS} -d ${seconds} -H 'authorization: Bearer <operator token>' ${gateway}${path.replace(id, '{id}')}   (in process: bench/src/harness/http-load.ts)`,
          `BARE_MODE=pg|bytes node --import tsx bench/src/edge/bare-fastify.server.ts`,
          `tracing off: restart ${READ_PATH.join(', ')} with ${Object.entries(TRACING_OFF).map(([k, v]) => `${k}=${v}`).join(' ')}`,
          `profile: ${busiest} (running process, V8 inspector via SIGUSR1), ${ctx.seconds(8)} s of the same load`,
        ],
        raw: { accountId: id, cases, baselines: { pg, bytes: by } },
      };
    } finally {
      await Promise.all(children.map((c) => c.stop()));
    }
  },
};
