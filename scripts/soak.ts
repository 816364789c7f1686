/**
 * `npm run soak [-- --minutes 10 --transfers 20 --reads 40 --events 200]`: a steady mixed load against the platform
 * `npm run up` runs (loopback only, bounded by --minutes), then the drift per service: RSS each minute (start, end,
 * growth) and p99 latency per route each minute (first vs last). Not part of `npm test`: it takes minutes by design.
 * Writes `.tessera/reports/soak.md` (issue #14).
 *
 * Load per second (open loop: sent on schedule whatever the answers): transfers (operator, fresh Idempotency-Key,
 * retried once on 503), account reads, and analytics events in batches of 50 with the demo tenant's API key.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DevIssuer, defaultAuthDir } from '@tessera/auth';
import { LocalKafka } from '../infra/local/kafka';
import { LocalPostgres } from '../infra/local/postgres';
import { LocalServices } from '../infra/local/services';
import { loadTopology, REPO_ROOT } from '../infra/local/topology';

interface Args {
  minutes: number;
  transfers: number;
  reads: number;
  events: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { minutes: 10, transfers: 20, reads: 40, events: 200 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]?.replace(/^--/, '') as keyof Args;
    const value = Number(argv[i + 1]);
    if (!(key in args) || !Number.isFinite(value) || value <= 0) {
      console.error(
        `✖ usage: npm run soak -- [--minutes 10] [--transfers 20] [--reads 40] [--events 200]   (per second; got ${argv[i]} ${argv[i + 1]})`,
      );
      process.exit(2);
    }
    args[key] = value;
  }
  return args;
}

function rssMb(pid: number): number | undefined {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Math.round(Number(kb) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

function p99(samples: number[]): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] ?? Number.NaN;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const topo = loadTopology(process.env['TESSERA_TOPOLOGY'] || undefined);
  const services = new LocalServices(topo);
  const gatewayPort = topo.services.find((s) => s.name === 'gateway')?.port;
  const gateway = `http://127.0.0.1:${gatewayPort}`;
  if (
    (await fetch(`${gateway}/health`).then(
      (r) => r.status,
      () => 0,
    )) !== 200
  ) {
    console.error(`✖ the platform is not up (${gateway}/health)\n  fix: npm run up`);
    process.exit(1);
  }
  const issuer = await DevIssuer.open(process.env['TESSERA_AUTH_DIR'] || defaultAuthDir());
  // The gateway limits each principal (write 120/min, read 600/min by default): the load is spread over enough operator
  // principals to stay under them, so the soak measures the platform, not its rate limiter.
  const pool = async (name: string, perMinute: number, limit: number) =>
    Promise.all(
      Array.from({ length: Math.max(1, Math.ceil((perMinute * 1.25) / limit)) }, async (_, i) => ({
        authorization: `Bearer ${await issuer.mint({ sub: `soak-${name}-${i}`, roles: ['operator'] })}`,
      })),
    );
  const writers = await pool('writer', args.transfers * 60, 120);
  const readers = await pool('reader', args.reads * 60, 600);
  const operator = writers[0] as Record<string, string>;
  let next = 0;
  const pick = (list: Record<string, string>[]) => list[next++ % list.length] as Record<string, string>;
  const apiKey = issuer.credentials().apiKeys['demo']?.key;
  if (!apiKey) throw new Error('no demo API key in the dev issuer (npm run auth -- init)');

  const open = async (owner: string, overdraft: string) => {
    const res = await fetch(`${gateway}/v1/accounts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': `soak-open-${owner}`, ...operator },
      body: JSON.stringify({
        ownerId: owner,
        type: 'ASSET',
        currency: 'EUR',
        overdraftLimitMinor: overdraft,
        holder: { fullName: `Soak ${owner}`, address: '1 Soak Street, Berlin', nationalId: `SOAK-${owner}`, country: 'DE' },
      }),
    });
    if (res.status !== 201 && res.status !== 200) throw new Error(`opening ${owner}: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { id: string }).id;
  };
  const run = randomUUID().slice(0, 8);
  const source = await open(`soak-source-${run}`, '1000000000000');
  const destination = await open(`soak-destination-${run}`, '0');

  type Route = 'POST /v1/transfers' | 'GET /v1/accounts/{id}' | 'POST /v1/events';
  const minutes: { latencies: Record<Route, number[]>; statuses: Record<string, number>; rss: Record<string, number | undefined> }[] = [];
  const newMinute = () =>
    minutes.push({ latencies: { 'POST /v1/transfers': [], 'GET /v1/accounts/{id}': [], 'POST /v1/events': [] }, statuses: {}, rss: {} });
  newMinute();
  const timed = async (route: Route, fn: () => Promise<Response>) => {
    const bucket = minutes[minutes.length - 1]!;
    const started = performance.now();
    // A refusal or failure is counted with its problem code (e.g. "503 DB.UNAVAILABLE"), so the report says why.
    const status = await fn().then(
      async (r) => {
        const text = await r.text();
        if (r.ok) return String(r.status);
        const code = (() => {
          try {
            return (JSON.parse(text) as { code?: unknown }).code;
          } catch {
            return undefined;
          }
        })();
        return typeof code === 'string' ? `${r.status} ${code}` : String(r.status);
      },
      () => 'network',
    );
    bucket.latencies[route].push(performance.now() - started);
    bucket.statuses[`${route} ${status}`] = (bucket.statuses[`${route} ${status}`] ?? 0) + 1;
  };
  const transfer = () => {
    const key = `soak-${randomUUID()}`;
    const body = JSON.stringify({
      sourceAccountId: source,
      destinationAccountId: destination,
      amount: { amountMinor: String(1 + Math.floor(Math.random() * 999)), currency: 'EUR' },
      description: 'soak',
      counterparty: { name: 'ACME GmbH', country: 'DE' },
    });
    return timed('POST /v1/transfers', () =>
      fetch(`${gateway}/v1/transfers`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key, ...pick(writers) },
        body,
      }),
    );
  };
  const read = () => timed('GET /v1/accounts/{id}', () => fetch(`${gateway}/v1/accounts/${destination}`, { headers: pick(readers) }));
  const events = () => {
    const now = new Date().toISOString();
    const batch = Array.from({ length: 50 }, () => ({
      tenantId: 'demo',
      streamId: 'soak',
      eventId: randomUUID(),
      eventType: 'page.view',
      occurredAt: now,
      value: 1,
      attributes: { country: 'DE', plan: 'pro', user_id: `u-${Math.floor(Math.random() * 5000)}` },
    }));
    return timed('POST /v1/events', () =>
      fetch(`${gateway}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
        body: JSON.stringify({ events: batch }),
      }),
    );
  };

  const pids = () => {
    const out: Record<string, number> = {};
    for (const s of topo.services) {
      const pid = services.pidOf(s.name);
      if (pid !== undefined) out[s.name] = pid;
    }
    const pg = new LocalPostgres(topo).pid();
    if (pg !== undefined) out['postgres'] = pg;
    const kafka = new LocalKafka(topo);
    for (const node of kafka.nodes(kafka.formattedLayout() ?? 'single')) {
      const pid = kafka.nodePid(node);
      if (pid !== undefined) out[`kafka-${node.id}`] = pid;
    }
    return out;
  };
  const sampleRss = () => {
    const bucket = minutes[minutes.length - 1]!;
    for (const [name, pid] of Object.entries(pids())) bucket.rss[name] = rssMb(pid);
  };

  console.log(
    `==> soak: ${args.minutes} min, per second ${args.transfers} transfers, ${args.reads} account reads, ${args.events} events (batches of 50), against ${gateway}`,
  );
  const end = Date.now() + args.minutes * 60_000;
  const inFlight = new Set<Promise<void>>();
  const fire = (p: Promise<void>) => {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };
  let second = 0;
  sampleRss();
  while (Date.now() < end) {
    const tick = Date.now();
    for (let i = 0; i < args.transfers; i++) fire(transfer());
    for (let i = 0; i < args.reads; i++) fire(read());
    for (let i = 0; i < Math.max(1, Math.round(args.events / 50)); i++) fire(events());
    second++;
    if (second % 60 === 0) {
      sampleRss();
      const m = minutes[minutes.length - 1]!;
      console.log(
        `  minute ${minutes.length}: p99 transfers ${p99(m.latencies['POST /v1/transfers']).toFixed(0)} ms, reads ${p99(m.latencies['GET /v1/accounts/{id}']).toFixed(0)} ms, events ${p99(m.latencies['POST /v1/events']).toFixed(0)} ms; in flight ${inFlight.size}; RSS ${Object.entries(
          m.rss,
        )
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')} MB`,
      );
      newMinute();
    }
    await sleep(Math.max(0, 1000 - (Date.now() - tick)));
  }
  await Promise.allSettled([...inFlight]);
  sampleRss();
  const full = minutes.filter((m) => m.latencies['POST /v1/transfers'].length > 0);
  const first = full[0]!;
  const last = full[full.length - 1]!;
  const drift = (a: number, b: number) => (Number.isFinite(a) && a > 0 ? `${(((b - a) / a) * 100).toFixed(0)}%` : 'n/a');
  const lines = [
    '# Soak report',
    '',
    `${new Date().toISOString()}, ${args.minutes} min; per second ${args.transfers} transfers, ${args.reads} account reads, ${args.events} events. \`npm run soak\` (scripts/soak.ts).`,
    '',
    '| route | p99 first minute | p99 last minute | drift | answers |',
    '| --- | --- | --- | --- | --- |',
    ...(Object.keys(first.latencies) as Route[]).map((r) => {
      const answers: Record<string, number> = {};
      for (const m of minutes)
        for (const [k, v] of Object.entries(m.statuses))
          if (k.startsWith(r)) answers[k.slice(r.length + 1)] = (answers[k.slice(r.length + 1)] ?? 0) + v;
      return `| ${r} | ${p99(first.latencies[r]).toFixed(0)} ms | ${p99(last.latencies[r]).toFixed(0)} ms | ${drift(p99(first.latencies[r]), p99(last.latencies[r]))} | ${Object.entries(
        answers,
      )
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ')} |`;
    }),
    '',
    '| process | RSS start | RSS end | growth | per minute |',
    '| --- | --- | --- | --- | --- |',
    ...Object.keys(minutes[0]!.rss).map((name) => {
      const series = minutes.map((m) => m.rss[name]).filter((v): v is number => v !== undefined);
      const [a, b] = [series[0] ?? Number.NaN, series[series.length - 1] ?? Number.NaN];
      return `| ${name} | ${a} MB | ${b} MB | ${drift(a, b)} | ${series.join(' ')} |`;
    }),
    '',
  ];
  const out = path.join(REPO_ROOT, '.tessera', 'reports', 'soak.md');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, lines.join('\n'));
  console.log(lines.join('\n'));
  console.log(`==> report: ${path.relative(REPO_ROOT, out)}`);
}

main().catch((err: unknown) => {
  console.error('✖ soak failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
