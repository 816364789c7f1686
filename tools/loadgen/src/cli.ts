import { parseArgs } from 'node:util';
import { GrpcSink } from './grpc.sink';
import { HttpSink } from './http.sink';
import { devApiKeys } from './dev-credentials';
import { formatProgress, progressPrinter } from './progress';
import { runLoad } from './runner';
import { ApiKeys, type EventSink } from './sink';

const USAGE = `usage: npx tsx tools/loadgen/src/cli.ts [options]
  --rate N            events per second (default 100)
  --duration D        how long: 30s, 2m, 1500ms (default 10s)
  --tenants N|a,b     tenant count (demo, acme, globex, ...) or ids (default 1)
  --skew S            Zipf exponent for users and tenants (default 1.2)
  --users N           distinct users per tenant (default 10000)
  --late P            share of late events, 0..1 (default 0)
  --duplicates P      share of exact re-sends of earlier events (default 0)
  --malformed P       share of invalid events (default 0)
  --target URL        gateway base URL (default http://127.0.0.1:8080); POST /v1/events
  --grpc HOST:PORT    send to ingest over gRPC instead of the gateway
  --api-key K         one key for all tenants, or tenant:key,tenant:key (default: the demo tenants' keys
                      from .tessera/auth/dev-credentials.json, written by \`npm run auth -- init\`)
  --batch N           events per request (default 100)
  --concurrency N     requests in flight (default 4)
  --seed N            deterministic traffic (same seed + --start: identical events)
  --start ISO         event time of the first event (default: now)
  --json              print the final stats as JSON`;

/** "30s" | "2m" | "1500ms" | "45" (seconds) -> ms. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new RangeError(`bad duration "${text}": use e.g. 30s, 2m, 1500ms`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(match[1]) * unit);
}

function number(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value)) throw new RangeError(`--${name} must be a number, got "${text}"`);
  return value;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      rate: { type: 'string' },
      duration: { type: 'string' },
      tenants: { type: 'string' },
      skew: { type: 'string' },
      users: { type: 'string' },
      late: { type: 'string' },
      duplicates: { type: 'string' },
      malformed: { type: 'string' },
      target: { type: 'string' },
      grpc: { type: 'string' },
      'api-key': { type: 'string' },
      batch: { type: 'string' },
      concurrency: { type: 'string' },
      seed: { type: 'string' },
      start: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const tenants =
    values.tenants?.includes(',') || (values.tenants && !/^\d+$/.test(values.tenants))
      ? values.tenants.split(',')
      : number('tenants', values.tenants, 1);
  const durationMs = parseDuration(values.duration ?? '10s');
  const keys = values['api-key'] ? ApiKeys.parse(values['api-key']) : devApiKeys();
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const sink: EventSink = values.grpc
    ? new GrpcSink({ addr: values.grpc, keys, signal: controller.signal })
    : new HttpSink({ target: values.target ?? process.env['LOADGEN_TARGET'] ?? 'http://127.0.0.1:8080', keys, signal: controller.signal });
  const start = values.start === undefined ? undefined : Date.parse(values.start);
  if (start !== undefined && Number.isNaN(start)) throw new RangeError(`--start must be an ISO timestamp, got "${values.start}"`);
  const seed = values.seed === undefined ? undefined : number('seed', values.seed, 0);
  try {
    const stats = await runLoad({
      rate: number('rate', values.rate, 100),
      durationMs,
      tenants,
      skew: number('skew', values.skew, 1.2),
      users: number('users', values.users, 10_000),
      late: number('late', values.late, 0),
      duplicates: number('duplicates', values.duplicates, 0),
      malformed: number('malformed', values.malformed, 0),
      batchSize: number('batch', values.batch, 100),
      maxInFlight: number('concurrency', values.concurrency, 4),
      sink,
      ...(seed === undefined ? {} : { seed }),
      ...(start === undefined ? {} : { startTime: start }),
      signal: controller.signal,
      onProgress: progressPrinter(process.stderr, durationMs),
    });
    process.stderr.write(`\n${formatProgress(stats, durationMs)}\n`);
    if (Object.keys(stats.rejectedByCode).length > 0) process.stderr.write(`rejected by code: ${JSON.stringify(stats.rejectedByCode)}\n`);
    if (values.json) process.stdout.write(`${JSON.stringify(stats)}\n`);
    return 0;
  } finally {
    await sink.close();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`\nloadgen: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
