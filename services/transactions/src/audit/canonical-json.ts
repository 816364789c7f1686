/**
 * Deterministic JSON: object keys sorted, bigint as decimal string, Date as ISO-8601, undefined dropped.
 * The audit hash is computed over this text, and the payload is stored as its parse, so re-reading the
 * JSONB column (which reorders keys) and re-canonicalising yields the same bytes.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(normalise(value));
}

/** The JSON value `canonicalJson` serialises (sorted keys, no bigint/Date/undefined left). */
export function normalise(value: unknown): unknown {
  if (value === null) return null;
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : normalise(item)));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value as object).sort()) {
      const item = (value as Record<string, unknown>)[key];
      if (item !== undefined) out[key] = normalise(item);
    }
    return out;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('non-finite number in audit payload');
  if (typeof value === 'function' || typeof value === 'symbol') throw new TypeError(`cannot audit a ${typeof value}`);
  return value;
}
