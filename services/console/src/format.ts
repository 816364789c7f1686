/** 12345 -> "12,345"; 1234567 -> "1.23M". */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '–';
  if (Math.abs(n) >= 1_000_000) return `${(n / 1_000_000).toFixed(2)}M`;
  return Math.round(n).toLocaleString('en-US');
}

/** Minor units to a major amount with 2 decimals ("1234" -> "12.34"). */
export function formatMinor(n: number): string {
  return (n / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

/** "12:34:56" in UTC, so every operator reads the same window boundaries. */
export function formatTime(iso: string | null): string {
  if (!iso) return '–';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '–' : d.toISOString().slice(11, 19);
}

export function formatPercent(ratio: number): string {
  return Number.isFinite(ratio) ? `${(ratio * 100).toFixed(1)}%` : '–';
}

/** [now - span, now + 10 s], widened to include any window outside it (e.g. late ones). */
export function rollingRange(min: number | null, max: number | null, spanSeconds: number, nowMs = Date.now()): [number, number] {
  const now = nowMs / 1000;
  return [Math.min(now - spanSeconds, min ?? Infinity), Math.max(now + 10, max ?? -Infinity)];
}
