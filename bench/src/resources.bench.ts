import { resourcesTable } from './harness/report';
import { round } from './harness/stats';
import type { Benchmark } from './harness/types';

/**
 * Resources: PSS and CPU seconds per component, idle and under each load case the other benchmarks ran in
 * this run (each case is measured by BenchContext.measure around its load). Runs last.
 */
export const resourcesBenchmark: Benchmark = {
  id: 'resources',
  title: 'Resources: CPU seconds and peak PSS per component, idle and under each load',
  async run(ctx) {
    const idleSeconds = ctx.seconds(10);
    ctx.log(`idle platform for ${idleSeconds}s`);
    const idle = await ctx.measure('idle (platform up, no load)', () => new Promise((r) => setTimeout(r, idleSeconds * 1000)));
    const table = resourcesTable(ctx.cases);
    const idlePss = Object.values(idle.resources.peakPssMb).reduce((a, b) => a + b, 0);
    const bars = Object.entries(idle.resources.peakPssMb)
      .sort((a, b) => b[1] - a[1])
      .map(([label, value]) => ({
        label,
        value,
        baseline: ['postgres', 'zipkin', 'victoria-metrics'].includes(label) || label.startsWith('kafka'),
      }));
    return {
      id: 'resources',
      title: this.title,
      method: `CPU s = utime+stime of each process tree over the case (/proc/<pid>/stat); peak PSS sampled every 5 s (/proc/<pid>/smaps_rollup; a sample costs ~50 ms of CPU, see harness/resources.ts). Idle: ${idleSeconds} s with nothing sent. Budget for the whole platform: 2.5 GB.`,
      table,
      chart: { title: `Idle PSS per component (total ${round(idlePss / 1024, 2)} GB)`, unit: 'MB', bars },
      ratios: { 'idle PSS total / 2.5 GB budget': round(idlePss / 2560, 3) },
      notes: [`Idle total PSS: ${Math.round(idlePss)} MB (Node services, PostgreSQL, Kafka and the observability backends).`],
      commands: ['(in process) measureResources() around every case: bench/src/harness/resources.ts'],
      raw: { idle: idle.resources, cases: ctx.cases },
    };
  },
};
