import type { NormalizedEvent } from '../../src/processing/processing.types';

const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000;
const TENANTS = ['acme', 'globex', 'initech'];
const COUNTRIES = ['DE', 'FR', 'US', 'BR'];

/**
 * The exactly-once specs' input (TS and Go processors): deterministic pseudo-random events, out of order within 25 s
 * (never too late), integer values (exact sums).
 */
export function makeEvents(n: number, from: number): NormalizedEvent[] {
  const out: NormalizedEvent[] = [];
  for (let i = from; i < from + n; i++) {
    out.push({
      tenantId: TENANTS[i % 3] as string,
      streamId: `stream-${i % 2}`,
      eventId: `ev-${i}`,
      eventTimeMs: T0 + ((i * 7_919) % 25_000),
      measurements: [{ metric: i % 5 === 0 ? 'checkout' : 'page.view', value: (i * 31) % 997 }],
      attributes: { country: COUNTRIES[i % 4] as string, plan: i % 3 ? 'pro' : 'free', user_id: `u${i % 211}` },
    });
  }
  return out;
}
