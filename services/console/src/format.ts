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

/**
 * A money view (`amountMinor` is an int64 decimal string) as "1,234.56 EUR", with the currency's own number of
 * decimals (JPY 0, BHD 3, from the runtime's ICU data). String arithmetic, so int64 amounts never lose digits.
 */
export function formatMoney(amount: { amountMinor: string; currency: string } | null): string {
  if (!amount || !/^-?\d+$/.test(amount.amountMinor)) return '–';
  let digits = 2;
  try {
    digits = new Intl.NumberFormat('en-US', { style: 'currency', currency: amount.currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    // Unknown to ICU: keep 2 decimals rather than fail the whole panel.
  }
  const negative = amount.amountMinor.startsWith('-');
  const minor = (negative ? amount.amountMinor.slice(1) : amount.amountMinor).replace(/^0+(?=\d)/, '').padStart(digits + 1, '0');
  const whole = minor.slice(0, minor.length - digits).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const fraction = digits > 0 ? `.${minor.slice(minor.length - digits)}` : '';
  return `${negative ? '-' : ''}${whole}${fraction} ${amount.currency}`;
}

export function formatPercent(ratio: number): string {
  return Number.isFinite(ratio) ? `${(ratio * 100).toFixed(1)}%` : '–';
}

/** [now - span, now + 10 s], widened to include any window outside it (e.g. late ones). */
export function rollingRange(min: number | null, max: number | null, spanSeconds: number, nowMs = Date.now()): [number, number] {
  const now = nowMs / 1000;
  return [Math.min(now - spanSeconds, min ?? Infinity), Math.max(now + 10, max ?? -Infinity)];
}
