/** Small numeric helpers shared by the benchmarks. */

export const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** Nearest-rank percentile of unsorted samples (0 when there are none). */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return 0;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/**
 * The sandwich of BENCHMARKING.md: a baseline run before and after Tessera's; their mean is the baseline and
 * a spread over 15% of it marks the pair noisy (re-run rather than publish).
 */
export function sandwich(before: number, after: number): { mean: number; spread: number; noisy: boolean } {
  const mean = (before + after) / 2;
  const spread = mean === 0 ? 0 : Math.abs(before - after) / mean;
  return { mean, spread: round(spread, 3), noisy: spread > 0.15 };
}

export function ratio(tessera: number, baseline: number): number {
  return baseline === 0 ? 0 : round(tessera / baseline, 4);
}

/** Formats a ratio for a table: 0.0512 -> "0.051x". */
export function fmtRatio(r: number): string {
  return `${r >= 1 ? r.toFixed(2) : r.toPrecision(2)}x`;
}
