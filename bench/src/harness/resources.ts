import { readFileSync } from 'node:fs';
import { childrenOf, treeCpuSeconds, treePssKb, treeRssKb } from '../../../infra/local/proc';
import type { Component } from './platform';

/** CPU seconds and peak memory of each watched process during one measured case. */
export interface CaseResources {
  label: string;
  wallSeconds: number;
  cpuSeconds: Record<string, number>;
  /** The bench process itself (load generator and in-process clients), from process.cpuUsage(). */
  benchCpuSeconds: number;
  peakPssMb: Record<string, number>;
  peakRssMb: Record<string, number>;
  /**
   * Share of the case's wall time in which every runnable task waited on IO (Linux PSI `/proc/pressure/io`, `full`),
   * in %; undefined where the kernel has no PSI. A disk slowed by something outside the platform shows here: the
   * pgbench baseline (fsync per commit) suffers far more from it than Tessera's CPU-bound path, so a case with a high
   * value makes its ratios meaningless.
   */
  ioStallPct?: number;
}

/** Total microseconds of `full` IO stall since boot (PSI), or undefined without PSI. */
export function ioStallMicros(): number | undefined {
  try {
    const full = readFileSync('/proc/pressure/io', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('full'));
    const total = full?.match(/total=(\d+)/)?.[1];
    return total === undefined ? undefined : Number(total);
  } catch {
    return undefined;
  }
}

/**
 * Measures `fn` the way BENCHMARKING.md asks: utime+stime of each process tree before and after (so a
 * process's children, e.g. PostgreSQL backends or pgbench, count to it) and PSS/RSS sampled every
 * `sampleMs` for the peak. PSS splits shared pages between processes; RSS is shown beside it.
 *
 * A sample is not free: one walk of /proc plus smaps_rollup of every process costs ~50 ms of CPU (the kernel
 * walks the page tables of the JVM and of each PostgreSQL backend), billed to this process and taken from the
 * system under test. Sampling every second took ~5% of the 2-core machine, so it samples every 5 s.
 */
export async function measureResources<T>(
  label: string,
  components: Component[],
  fn: () => Promise<T>,
  sampleMs = 5000,
): Promise<{ value: T; resources: CaseResources }> {
  const tree = childrenOf();
  const before = new Map(components.map((c) => [c.name, treeCpuSeconds(c.pid, tree)]));
  const peakPss = new Map<string, number>();
  const peakRss = new Map<string, number>();
  const sample = () => {
    const children = childrenOf();
    for (const c of components) {
      peakPss.set(c.name, Math.max(peakPss.get(c.name) ?? 0, treePssKb(c.pid, children)));
      peakRss.set(c.name, Math.max(peakRss.get(c.name) ?? 0, treeRssKb(c.pid, children)));
    }
  };
  sample();
  const timer = setInterval(sample, sampleMs);
  const t0 = process.hrtime.bigint();
  const stallBefore = ioStallMicros();
  const ownBefore = process.cpuUsage();
  let value: T;
  try {
    value = await fn();
  } finally {
    clearInterval(timer);
  }
  sample();
  const own = process.cpuUsage(ownBefore);
  const wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const stallAfter = ioStallMicros();
  const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
  return {
    value,
    resources: {
      label,
      wallSeconds: round(wallSeconds),
      benchCpuSeconds: round((own.user + own.system) / 1e6),
      cpuSeconds: Object.fromEntries(
        ((after) => components.map((c) => [c.name, round(treeCpuSeconds(c.pid, after) - (before.get(c.name) ?? 0))]))(childrenOf()),
      ),
      peakPssMb: Object.fromEntries(components.map((c) => [c.name, round((peakPss.get(c.name) ?? 0) / 1024, 0)])),
      peakRssMb: Object.fromEntries(components.map((c) => [c.name, round((peakRss.get(c.name) ?? 0) / 1024, 0)])),
      ...(stallBefore !== undefined && stallAfter !== undefined
        ? { ioStallPct: round(((stallAfter - stallBefore) / 1e6 / wallSeconds) * 100, 1) }
        : {}),
    },
  };
}
