/**
 * Shared pipeline vectors (issue #15): one raw-events input (multi-tenant, out of order, duplicates, late and very late
 * events, malformed records of every kind, edge values) and what the aggregate stage must make of it: the newest
 * revision of every window (every field but the revision and computed_at, which depend on batching) and the dead
 * letters with their reason codes. Expected values come from the reference, the TS stage's own `PartitionState` fed the
 * records in order, and are checked in as `pipeline.json`. Both stages reproduce them against a real broker:
 * services/stream-processor/test/vectors.int-spec.ts (TS and Go processes). Regenerate only when the reference changes
 * on purpose: npx tsx --conditions=@tessera/source tests/contract/vectors/pipeline.ts --write
 *
 * Deterministic by construction: fixed event and record times (2026-01-01), one partition (the order is the log's),
 * no wall-clock watermark (the processes run with idle advance off), every window's span under the closed retention.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyticsV1, commonV1, eventTypeName } from '@tessera/contracts';
import { buildEnvelope, encodeEnvelope } from '@tessera/kafka';
/* eslint-disable @nx/enforce-module-boundaries -- the expected output is the TS stage's own processing core */
import { aggregationOptions } from '../../../services/stream-processor/src/composition';
import { streamProcessorConfigSchema } from '../../../services/stream-processor/src/config';
import { PartitionState } from '../../../services/stream-processor/src/processing/partition-state';
import type { InputRecord } from '../../../services/stream-processor/src/processing/processing.types';
import { decodeRawEvent } from '../../../services/stream-processor/src/processing/raw-event.decoder';
import { TenantMetadata } from '../../../services/stream-processor/src/processing/tenant-metadata';
/* eslint-enable @nx/enforce-module-boundaries */

export const PIPELINE_VECTORS_FILE = join(__dirname, 'pipeline.json');

/** The settings both stages run the vectors with (the defaults, written out; idle advance off). */
export const VECTOR_SETTINGS = {
  windows: '10s,60s,60s/10s',
  // tier comes only from tenant metadata (acme's events get it; its plan never overrides the events' own).
  dimensions: 'country,plan,tier',
  tenantMetadata: '{"acme":{"plan":"enterprise","tier":"gold"}}',
  distinct: 'user_id',
  allowedLatenessMs: 30_000,
  watermarkDelayMs: 5_000,
  dedupeHorizonMs: 120_000,
  closedRetentionMs: 300_000,
  maxFutureSkewMs: 3_600_000,
};

/** The TS stage's environment for these settings. */
export function tsSettingsEnv(s: typeof VECTOR_SETTINGS): Record<string, string> {
  return {
    STREAM_PROCESSOR_WINDOWS: s.windows,
    STREAM_PROCESSOR_DIMENSIONS: s.dimensions,
    STREAM_PROCESSOR_DISTINCT_ATTRIBUTE: s.distinct,
    STREAM_PROCESSOR_ALLOWED_LATENESS_MS: String(s.allowedLatenessMs),
    STREAM_PROCESSOR_WATERMARK_DELAY_MS: String(s.watermarkDelayMs),
    STREAM_PROCESSOR_DEDUPE_HORIZON_MS: String(s.dedupeHorizonMs),
    STREAM_PROCESSOR_CLOSED_RETENTION_MS: String(s.closedRetentionMs),
    STREAM_PROCESSOR_MAX_FUTURE_SKEW_MS: String(s.maxFutureSkewMs),
    STREAM_PROCESSOR_TENANT_METADATA: s.tenantMetadata,
  };
}

/** The Go stage's environment for these settings (Go durations; no wall-clock watermark: the input's times are in 2026-01). */
export function goSettingsEnv(s: typeof VECTOR_SETTINGS): Record<string, string> {
  return {
    STREAM_PROCESSOR_GO_WINDOWS: s.windows,
    STREAM_PROCESSOR_GO_DIMENSIONS: s.dimensions,
    STREAM_PROCESSOR_GO_DISTINCT_KEY: s.distinct,
    STREAM_PROCESSOR_GO_TENANT_METADATA: s.tenantMetadata,
    STREAM_PROCESSOR_GO_ALLOWED_LATENESS: `${s.allowedLatenessMs}ms`,
    STREAM_PROCESSOR_GO_WATERMARK_DELAY: `${s.watermarkDelayMs}ms`,
    STREAM_PROCESSOR_GO_DEDUP_HORIZON: `${s.dedupeHorizonMs}ms`,
    STREAM_PROCESSOR_GO_CLOSED_RETENTION: `${s.closedRetentionMs}ms`,
    STREAM_PROCESSOR_GO_MAX_FUTURE_SKEW: `${s.maxFutureSkewMs}ms`,
    STREAM_PROCESSOR_GO_IDLE_TIMEOUT: '24h',
  };
}

export interface VectorRecord {
  key: string;
  /** The record value, base64. */
  value: string;
  timestampMs: number;
  /** What the record is, for a reader of the file. */
  note: string;
}

export interface VectorAggregate {
  windowKey: string;
  count: number;
  sum: number;
  min: number;
  max: number;
  p50: number;
  p95: number;
  p99: number;
  distinct: number;
  late: number;
  final: boolean;
  maxEventTimeMs: number | null;
}

export interface PipelineVectors {
  settings: typeof VECTOR_SETTINGS;
  records: VectorRecord[];
  aggregates: VectorAggregate[];
  deadLetters: Array<{ offset: number; code: string }>;
}

const T0 = Date.UTC(2026, 0, 1);
const TENANTS = ['acme', 'globex', 'initech'];
const COUNTRIES = ['DE', 'FR', 'US', 'BR', 'JP'];

function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

function eventRecord(
  e: { tenant: string; stream: string; id: string; type: string; at: number; value: number; attrs: Record<string, string> },
  recordTime: number,
  note: string,
): VectorRecord {
  const payload = analyticsV1.AnalyticsEvent.fromPartial({
    tenantId: e.tenant,
    streamId: e.stream,
    eventId: e.id,
    eventType: e.type,
    occurredAt: new Date(e.at),
    value: e.value,
    attributes: e.attrs,
  });
  const envelope = buildEnvelope(
    {
      type: eventTypeName.AnalyticsEvent,
      subject: e.id,
      id: `env-${e.id}-${recordTime}`,
      message: payload,
      codec: analyticsV1.AnalyticsEvent,
      time: new Date(recordTime),
    },
    'vectors',
    {},
  );
  return { key: `${e.tenant}/${e.stream}`, value: Buffer.from(encodeEnvelope(envelope)).toString('base64'), timestampMs: recordTime, note };
}

function rawEnvelope(type: string, data: Uint8Array, recordTime: number, note: string): VectorRecord {
  const envelope = buildEnvelope({ type, subject: 'x', id: `env-raw-${recordTime}`, data, time: new Date(recordTime) }, 'vectors', {});
  return { key: 'acme/web', value: Buffer.from(encodeEnvelope(envelope)).toString('base64'), timestampMs: recordTime, note };
}

export function vectorRecords(): VectorRecord[] {
  const r = lcg(1515);
  const out: VectorRecord[] = [];
  const sent: Array<Parameters<typeof eventRecord>[0]> = [];
  // 240 s of traffic, 2 events per second of event time, arriving up to 20 s out of order.
  for (let i = 0; i < 480; i++) {
    const at = T0 + i * 500 - Math.floor(r() * 20_000);
    const tenant = TENANTS[Math.floor(r() * TENANTS.length)] as string;
    const purchase = r() < 0.2;
    const e = {
      tenant,
      stream: purchase ? 'shop' : 'web',
      id: `e${i}`,
      type: purchase ? 'purchase' : 'page.view',
      at,
      value: purchase ? Math.round(1000 + r() * 90_000) : Math.round(50 + r() * 900),
      attrs: {
        country: COUNTRIES[Math.floor(r() * COUNTRIES.length)] as string,
        plan: r() < 0.7 ? 'free' : 'pro',
        user_id: `u${Math.floor(r() * 120)}`,
      },
    };
    const recordTime = T0 + i * 500;
    out.push(eventRecord(e, recordTime, 'event'));
    sent.push(e);
    if (i % 37 === 5)
      out.push(eventRecord(sent[i - 3] as Parameters<typeof eventRecord>[0], recordTime + 1, 'duplicate (resent within the horizon)'));
    if (i === 200)
      out.push(
        eventRecord({ ...e, id: 'late-65s', at: recordTime - 65_000 }, recordTime + 2, 'late for its 10 s window, on time for 60 s ones'),
      );
    if (i === 300) out.push(eventRecord({ ...e, id: 'late-200s', at: recordTime - 200_000 }, recordTime + 3, 'too late for every window'));
    if (i === 120) {
      out.push({
        key: 'acme/web',
        value: Buffer.from('not an envelope \u0000\u00ff', 'latin1').toString('base64'),
        timestampMs: recordTime + 4,
        note: 'garbage bytes',
      });
      out.push(
        rawEnvelope(
          eventTypeName.WindowAggregate,
          analyticsV1.WindowAggregate.encode(analyticsV1.WindowAggregate.fromPartial({ windowKey: 'x' })).finish(),
          recordTime + 5,
          'another contract',
        ),
      );
      out.push(rawEnvelope(eventTypeName.AnalyticsEvent, new Uint8Array([0x0a, 0x05, 0x61]), recordTime + 6, 'truncated payload'));
      const bad = (id: string, patch: Partial<Parameters<typeof eventRecord>[0]>, note: string, offset: number) =>
        out.push(eventRecord({ ...e, id, ...patch }, recordTime + offset, note));
      bad('no-tenant', { tenant: '' }, 'tenant missing', 7);
      bad('nan', { value: Number.NaN }, 'NaN value', 8);
      bad('inf', { value: Number.POSITIVE_INFINITY }, 'infinite value', 9);
      bad('x'.repeat(201), {}, 'event id over 200 characters', 10);
      bad('pipe', { stream: 'web|x' }, 'pipe in the stream id', 11);
      bad('future', { at: recordTime + 3_700_000 }, 'event time more than 1 h after the record time', 12);
      bad('edge-max', { value: 1e308 }, 'edge value 1e308 (valid)', 13);
      bad('edge-min', { value: -1e300 }, 'edge value -1e300 (valid)', 14);
      bad('edge-tiny', { value: 5e-324 }, 'edge value 5e-324 (valid, counts as zero in the sketch)', 15);
      bad('edge-zero', { value: 0 }, 'zero (valid)', 16);
      out.push({ key: 'acme/web', value: '', timestampMs: recordTime + 17, note: 'empty value' });
      out.push({
        key: 'acme/web',
        value: Buffer.from(
          commonV1.EventEnvelope.encode(
            commonV1.EventEnvelope.fromPartial({ type: eventTypeName.AnalyticsEvent, data: new Uint8Array([0x0a, 0x01, 0x61]) }),
          ).finish(),
        ).toString('base64'),
        timestampMs: recordTime + 18,
        note: 'envelope without id',
      });
    }
  }
  return out;
}

/**
 * Runs decoded records through the reference, the TS stage's own `PartitionState` (one partition, batches of 25: any
 * size gives the same newest revisions, lateness is decided per event), and returns the newest revision of every window
 * and the dead letters (by position in `input`).
 */
export function runReference(input: InputRecord[]): {
  aggregates: VectorAggregate[];
  deadLetters: Array<{ offset: number; code: string }>;
} {
  const config = streamProcessorConfigSchema.parse(tsSettingsEnv(VECTOR_SETTINGS));
  const state = new PartitionState(aggregationOptions(config));
  const latest = new Map<string, VectorAggregate>();
  const deadLetters: Array<{ offset: number; code: string }> = [];
  for (let i = 0; i < input.length; i += 25) {
    const out = state.processBatch(input.slice(i, i + 25));
    for (const d of out.deadLetters) deadLetters.push({ offset: Number(d.offset), code: d.code });
    for (const a of out.aggregates) {
      latest.set(a.windowKey, {
        windowKey: a.windowKey,
        count: a.summary.count,
        sum: a.summary.sum,
        min: a.summary.min,
        max: a.summary.max,
        p50: a.summary.p50,
        p95: a.summary.p95,
        p99: a.summary.p99,
        distinct: a.summary.distinct,
        late: a.late,
        final: a.final,
        maxEventTimeMs:
          a.summary.maxEventTimeMs !== undefined && Number.isFinite(a.summary.maxEventTimeMs) ? a.summary.maxEventTimeMs : null,
      });
    }
  }
  return { aggregates: [...latest.values()].sort((a, b) => (a.windowKey < b.windowKey ? -1 : 1)), deadLetters };
}

export function generatePipelineVectors(): PipelineVectors {
  const records = vectorRecords();
  const tenants = TenantMetadata.parse(VECTOR_SETTINGS.tenantMetadata);
  const input: InputRecord[] = records.map((rec, offset) => {
    const value = Buffer.from(rec.value, 'base64');
    return { ...decodeRawEvent(value, tenants), offset: String(offset), key: Buffer.from(rec.key), value, timestampMs: rec.timestampMs };
  });
  return { settings: VECTOR_SETTINGS, records, ...runReference(input) };
}

if (require.main === module && process.argv.includes('--write')) {
  const v = generatePipelineVectors();
  writeFileSync(PIPELINE_VECTORS_FILE, `${JSON.stringify(v, null, 1)}\n`);
  console.log(
    `wrote ${PIPELINE_VECTORS_FILE}: ${v.records.length} records, ${v.aggregates.length} windows, ${v.deadLetters.length} dead letters`,
  );
}
