import type { LoadStats } from './runner';

/** One status line, e.g. `12.0s/30s sent 2400 accepted 2350 rejected 50 rate 199.8/s retries 0`. */
export function formatProgress(stats: LoadStats, durationMs: number): string {
  const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
  const parts = [
    `${secs(stats.elapsedMs)}/${Math.round(durationMs / 1000)}s`,
    `sent ${stats.sent}`,
    `accepted ${stats.accepted}`,
    `rejected ${stats.rejected}`,
    `rate ${stats.rate.toFixed(1)}/s`,
    `retries ${stats.retries}`,
    `in-flight ${stats.inFlight}`,
  ];
  return parts.join('  ');
}

/**
 * Rewrites one terminal line in place; when output is not a terminal (CI logs) it prints a line at most every
 * `everyMs` so logs stay readable.
 */
export function progressPrinter(stream: NodeJS.WriteStream, durationMs: number, everyMs = 5000): (stats: LoadStats) => void {
  let lastPrinted = 0;
  return (stats) => {
    const line = formatProgress(stats, durationMs);
    if (stream.isTTY) {
      stream.write(`\r\x1b[2K${line.slice(0, Math.max(20, (stream.columns ?? 120) - 1))}`);
    } else if (Date.now() - lastPrinted >= everyMs) {
      lastPrinted = Date.now();
      stream.write(`${line}\n`);
    }
  };
}
