import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Admin } from 'kafkajs';
import { LocalKafka } from '../../../infra/local/kafka';
import { processEnv, serviceLaunch } from '../../../infra/local/services';
import { REPO_ROOT } from '../../../infra/local/topology';
import { adminJavaClientConfig, benchKafkaCredentials } from '../harness/kafka-auth';
import type { BenchContext } from '../harness/types';
import { groupProgress } from './backlog';
import { GatedChild, tail } from './child';

/** One system's drain of the backlog. */
export interface Drain {
  system: string;
  baseline: boolean;
  /** Seconds from releasing the process to N records consumed: runtime start-up and group join included. */
  drainSeconds: number;
  /** Seconds of consuming only: first record (processors: first committed progress) to N. */
  steadySeconds: number;
  cpuSeconds: number;
  peakRssMb: number;
  peakPssMb: number;
  command: string;
  detail: Record<string, unknown>;
}

export interface DrainSetup {
  ctx: BenchContext;
  admin: Admin;
  brokers: string[];
  topic: string;
  n: number;
  ends: Map<number, number>;
  logDir: string;
  timeoutMs: number;
}

const POLL_MS = 250;
const shellQuote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
const cmdLine = (env: Record<string, string>, command: string, args: string[]) =>
  [
    ...Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)}`),
    ...[command, ...args].map((a) => shellQuote(a.startsWith(REPO_ROOT) ? a.slice(REPO_ROOT.length + 1) : a)),
  ].join(' ');

/** Runs `fn` under ctx.measure with the child as an extra component, releasing the child first. */
async function measured<T>(
  s: DrainSetup,
  label: string,
  child: GatedChild,
  fn: () => Promise<T>,
): Promise<{ value: T; cpu: number; rss: number; pss: number; postgresCpu: number }> {
  const r = await s.ctx.measure(label, async () => {
    child.go();
    return fn();
  }, [{ name: child.name, pid: child.pid }]);
  return {
    value: r.value,
    cpu: r.resources.cpuSeconds[child.name] ?? 0,
    rss: r.resources.peakRssMb[child.name] ?? 0,
    pss: r.resources.peakPssMb[child.name] ?? 0,
    postgresCpu: r.resources.cpuSeconds['postgres'] ?? 0,
  };
}

function nodeEnv(): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _loaders, ...env } = process.env;
  return env;
}

/** A bare counting consumer (kafkajs eachBatch or @platformatic/kafka stream) in its own Node process. */
export async function countingDrain(s: DrainSetup, which: 'kafkajs' | 'platformatic', system: string, group: string): Promise<Drain> {
  const script = join(REPO_ROOT, 'bench', 'src', 'pipeline', `${which}-drain.ts`);
  const args = ['--import', 'tsx', script, s.brokers.join(','), s.topic, group, String(s.n)];
  const child = new GatedChild(`bench-${which}-drain`, process.execPath, args, {
    env: nodeEnv(),
    logFile: join(s.logDir, `${which}.log`),
    mode: 'wait',
    parseStdout: true,
  });
  try {
    const m = await measured(s, `pipeline: ${system}`, child, async () => {
      const line = await child.waitForLine((l) => l.startsWith('RESULT '), s.timeoutMs);
      await child.waitForLine((l) => l.startsWith('__EXIT '), 30_000);
      return line;
    });
    const r = JSON.parse(m.value.text.slice('RESULT '.length)) as { count: number; firstMs: number; doneMs: number; maxRssKb: number };
    return {
      system,
      baseline: true,
      drainSeconds: (m.value.at - (child.startedAt ?? 0)) / 1000,
      steadySeconds: (r.doneMs - r.firstMs) / 1000,
      cpuSeconds: m.cpu,
      // The process lives a few seconds and RSS is sampled every second: its own getrusage peak is exact.
      peakRssMb: Math.max(m.rss, Math.round(r.maxRssKb / 1024)),
      peakPssMb: m.pss,
      command: cmdLine({}, 'node', args),
      detail: r,
    };
  } finally {
    await child.stop('release');
  }
}

/** Kafka's own consumer (org.apache.kafka.tools.ConsumerPerformance from the kafka-tools jar), one JVM. */
export async function consumerPerformance(s: DrainSetup, system: string, group: string): Promise<Drain> {
  // -Xmx512M as bin/kafka-consumer-perf-test.sh sets it (the JVM default would be 1/4 of RAM).
  // --command-config: tessera-admin's TLS + SASL/SCRAM client properties (Kafka 4.x name; --consumer.config is deprecated).
  const config = adminJavaClientConfig(s.ctx.platform.topo);
  const args = [
    '-Xmx512M',
    '-cp',
    join(REPO_ROOT, '.cache', 'kafka', 'libs', '*'),
    'org.apache.kafka.tools.ConsumerPerformance',
    '--bootstrap-server',
    s.brokers.join(','),
    '--command-config',
    config,
    '--topic',
    s.topic,
    '--num-records',
    String(s.n),
    '--group',
    group,
    '--timeout',
    '30000',
  ];
  const child = new GatedChild('bench-consumer-perf', 'java', args, {
    env: process.env,
    logFile: join(s.logDir, `${group}.log`),
    mode: 'wait',
    parseStdout: true,
  });
  try {
    const m = await measured(s, `pipeline: ${system}`, child, async () => {
      const header = await child.waitForLine((l) => l.includes('nMsg.sec'), s.timeoutMs);
      const data = await child.waitForLine((l) => /^\d{4}-\d\d-\d\d /.test(l), s.timeoutMs);
      const exit = await child.waitForLine((l) => l.startsWith('__EXIT '), 30_000);
      if (exit.text !== '__EXIT 0') throw new Error(`ConsumerPerformance failed (${exit.text}):\n${tail(join(s.logDir, `${group}.log`))}`);
      return { header, data };
    });
    const names = m.value.header.text.split(',').map((x) => x.trim());
    const values = m.value.data.text.split(',').map((x) => x.trim());
    const field = (name: string) => Number(values[names.indexOf(name)]);
    const consumed = field('data.consumed.in.nMsg');
    if (consumed < s.n) throw new Error(`ConsumerPerformance consumed ${consumed} of ${s.n} records`);
    return {
      system,
      baseline: true,
      drainSeconds: (m.value.data.at - (child.startedAt ?? 0)) / 1000,
      steadySeconds: field('fetch.time.ms') / 1000,
      cpuSeconds: m.cpu,
      peakRssMb: m.rss,
      peakPssMb: m.pss,
      command: cmdLine({}, 'java', args),
      detail: Object.fromEntries(names.map((n, i) => [n, values[i]])),
    };
  } finally {
    await child.stop('release');
  }
}

/**
 * One of the platform's stream processors (or insights, on an aggregates backlog) as its own process (the platform's launch command and environment,
 * `overrides` on top, connecting as the bench's Kafka principal), released, then polled every 250 ms until its group's committed offsets reach the end
 * offsets on every partition; stopped with SIGTERM afterwards (which also writes a --cpu-prof profile).
 */
export async function processorDrain(
  s: DrainSetup,
  service: 'stream-processor' | 'stream-processor-go' | 'insights',
  system: string,
  group: string,
  overrides: Record<string, string>,
  opts: { measure?: boolean; maxSeconds?: number } = {},
): Promise<Drain> {
  const measure = opts.measure ?? true;
  const topo = s.ctx.platform.topo;
  const spec = topo.services.find((x) => x.name === service);
  if (!spec) throw new Error(`${service} is not in infra/topology.yaml`);
  const launch = serviceLaunch(spec);
  // Bench-private topics, groups and transactional ids: the service's own principal may use only the topology's names
  // (its ACLs), so the process connects with the bench's credentials (tessera-admin) instead; TLS settings stay.
  const credentials = benchKafkaCredentials(topo);
  const env = processEnv(topo, service, process.env, new LocalKafka(topo).formattedLayout() ?? 'single', { ...overrides, ...credentials });
  const logFile = join(s.logDir, `${group}.log`);
  const child = new GatedChild(`bench-${service}`, launch.command, launch.args, { env, logFile, mode: 'exec', parseStdout: false });
  const drain = async () => {
    const t0 = performance.now();
    let first: number | undefined;
    for (;;) {
      const p = await groupProgress(s.admin, group, s.topic, s.ends);
      const now = performance.now();
      if (first === undefined && p.committed > 0) first = now;
      const stop = p.caughtUp || (opts.maxSeconds !== undefined && now - t0 > opts.maxSeconds * 1000);
      if (stop) return { total: (now - t0) / 1000, steady: (now - (first ?? t0)) / 1000, committed: p.committed, caughtUp: p.caughtUp };
      if (child.exited) throw new Error(`${system} exited before catching up:\n${tail(logFile)}`);
      if (now - t0 > s.timeoutMs)
        throw new Error(`${system} did not catch up within ${s.timeoutMs / 1000}s (committed ${p.committed} of ${s.n}):\n${tail(logFile)}`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  };
  try {
    let m: {
      value: { total: number; steady: number; committed: number; caughtUp: boolean };
      cpu: number;
      rss: number;
      pss: number;
      postgresCpu: number;
    };
    if (measure) m = await measured(s, `pipeline: ${system}`, child, drain);
    else {
      child.go();
      m = { value: await drain(), cpu: 0, rss: 0, pss: 0, postgresCpu: 0 };
    }
    const shown = Object.fromEntries(Object.entries(overrides).filter(([k]) => k !== 'NODE_OPTIONS' || overrides[k]));
    return {
      system,
      baseline: false,
      drainSeconds: m.value.total,
      steadySeconds: m.value.steady,
      cpuSeconds: m.cpu,
      peakRssMb: m.rss,
      peakPssMb: m.pss,
      command: `${cmdLine(shown, launch.command === process.execPath ? 'node' : launch.command, launch.args)}  (plus the topology's environment for ${service}: processEnv() in infra/local/services.ts; Kafka principal ${credentials['KAFKA_SASL_USERNAME']}, not ${service}'s: bench-private topics and groups)`,
      detail: {
        group,
        env: overrides,
        committed: m.value.committed,
        caughtUp: m.value.caughtUp,
        records: s.n,
        postgresCpuSeconds: m.postgresCpu,
      },
    };
  } finally {
    await child.stop('SIGTERM', 20_000);
  }
}
