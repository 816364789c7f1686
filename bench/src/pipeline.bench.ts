import type { Benchmark } from './harness/types';

/** TODO (being written): see bench/README.md for what this benchmark measures. */
export const pipelineBenchmark: Benchmark = {
  id: 'pipeline',
  title: 'pipeline',
  async run() {
    throw new Error('pipeline benchmark not written yet');
  },
};
