import type { BenchPlatform, Component } from './platform';
import type { CaseResources } from './resources';

/** What one benchmark hands to the report: a table, a chart, raw data, notes and the commands it ran. */
export interface BenchResult {
  id: string;
  title: string;
  /** One line: what was measured and how (shown above the table). */
  method: string;
  table: { columns: string[]; rows: (string | number)[][] };
  /** One bar per system; Tessera's and baselines' bars are coloured differently. */
  chart: { title: string; unit: string; bars: { label: string; value: number; baseline: boolean }[] };
  /** Ratios the issues set targets on, e.g. { 'gateway / bare fastify+pg': 0.05 }. */
  ratios: Record<string, number>;
  /** Baseline spread flags, profile summaries, anything a reader must know. */
  notes: string[];
  /** Exact commands (or their equivalent in code) that produced the numbers. */
  commands: string[];
  raw: unknown;
}

export interface BenchContext {
  smoke: boolean;
  platform: BenchPlatform;
  /** Runs one measured case, recording CPU s and peak memory of every platform component (and `extra` processes). */
  measure<T>(label: string, fn: () => Promise<T>, extra?: Component[]): Promise<{ value: T; resources: CaseResources }>;
  /**
   * Waits (at most `maxSeconds`) until the platform is quiet: its components together use under 20% of one core
   * over a 2 s window. Consumers still draining an earlier case's backlog (compliance's AML monitor, insights)
   * would otherwise eat the next baseline's CPU. Returns a note when it gave up waiting.
   */
  quiesce(maxSeconds?: number): Promise<string | undefined>;
  /** Every case measured so far in this run (the resources benchmark tabulates them). */
  cases: CaseResources[];
  /** Where CPU profiles go (not committed: they are megabytes). */
  profileDir: string;
  /** Results folder of this run; profiles and artifacts go under it. */
  outDir: string;
  log: (line: string) => void;
  /** Seconds of measured load per case (warm-up is on top), shortened in smoke mode. */
  seconds: (full: number) => number;
}

export interface Benchmark {
  id: string;
  title: string;
  run(ctx: BenchContext): Promise<BenchResult>;
}
