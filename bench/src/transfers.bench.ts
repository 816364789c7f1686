import type { Benchmark } from './harness/types';

/** TODO (being written): see bench/README.md for what this benchmark measures. */
export const transfersBenchmark: Benchmark = {
  id: 'transfers',
  title: 'transfers',
  async run() {
    throw new Error('transfers benchmark not written yet');
  },
};
