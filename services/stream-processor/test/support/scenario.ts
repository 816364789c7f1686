import { isDeepStrictEqual } from 'node:util';
import { analyticsV1 } from '@tessera/contracts';
import { decodeEnvelope } from '@tessera/kafka';
import type { Admin, Kafka } from 'kafkajs';
import type { NormalizedEvent } from '../../src/processing/processing.types';
import type { OfflineAggregate } from './offline-aggregates';
import { readAll } from './kafka-fixture';

/** Start of the hour-old minute the generated events live in (old enough to never be "future"). */
export const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000;
const TENANTS = ['acme', 'globex', 'initech'];
const COUNTRIES = ['DE', 'FR', 'US', 'BR'];

/**
 * Deterministic pseudo-random input: out of order within 25 s (never too late with the default
 * 5 s watermark delay + 30 s lateness), integer values (exact sums).
 */
export function makeEvents(n: number, from: number, streams = 2): NormalizedEvent[] {
  const out: NormalizedEvent[] = [];
  for (let i = from; i < from + n; i++) {
    const tenant = TENANTS[i % 3] as string;
    out.push({
      tenantId: tenant,
      streamId: `stream-${i % streams}`,
      eventId: `ev-${i}`,
      eventTimeMs: T0 + ((i * 7_919) % 25_000),
      measurements: [{ metric: i % 5 === 0 ? 'checkout' : 'page.view', value: (i * 31) % 997 }],
      attributes: { country: COUNTRIES[i % 4] as string, plan: i % 3 ? 'pro' : 'free', user_id: `u${i % 211}` },
    });
  }
  return out;
}

/** Every committed aggregate of the topic, reduced to the highest revision per window key. */
export async function latestAggregates(kafka: Kafka, admin: Admin, topic: string): Promise<Map<string, analyticsV1.WindowAggregate>> {
  const latest = new Map<string, analyticsV1.WindowAggregate>();
  for (const r of await readAll(kafka, admin, topic)) {
    const agg = analyticsV1.WindowAggregate.decode(decodeEnvelope(r.value).data);
    const prev = latest.get(agg.windowKey);
    if (!prev || prev.revision < agg.revision) latest.set(agg.windowKey, agg);
  }
  return latest;
}

/** The comparable fields of an emitted aggregate, in the offline reference's shape. */
export function comparable(key: string, got: analyticsV1.WindowAggregate | undefined): OfflineAggregate & { key: string; late: number } {
  return {
    key,
    count: Number(got?.count),
    sum: got?.sum ?? NaN,
    min: got?.min ?? NaN,
    max: got?.max ?? NaN,
    p50: got?.p50Approx ?? NaN,
    p95: got?.p95Approx ?? NaN,
    p99: got?.p99Approx ?? NaN,
    distinct: Number(got?.distinctCount),
    maxEventTimeMs: got?.maxEventTime?.getTime() ?? NaN,
    late: Number(got?.lateEvents),
  };
}

/** Asserts that the emitted latest aggregates are exactly the offline ones: same keys, same values, no late events. */
export function expectEqualToOffline(latest: Map<string, analyticsV1.WindowAggregate>, offline: Map<string, OfflineAggregate>): void {
  expect([...latest.keys()].filter((k) => !offline.has(k)).slice(0, 5)).toEqual([]);
  expect([...offline.keys()].filter((k) => !latest.has(k)).slice(0, 5)).toEqual([]);
  expect(latest.size).toBe(offline.size);
  const mismatches = [...offline]
    .map(([key, want]) => ({ want: { key, ...want, late: 0 }, got: comparable(key, latest.get(key)) }))
    .filter(({ want, got }) => !isDeepStrictEqual(want, got));
  expect(mismatches.slice(0, 5)).toEqual([]);
}
