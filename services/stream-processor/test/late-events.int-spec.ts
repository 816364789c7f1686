import { analyticsV1 } from '@tessera/contracts';
import { decodeEnvelope } from '@tessera/kafka';
import { OtlpReceiver } from '@tessera/telemetry';
import type { ChildProcess } from 'node:child_process';
import type { Admin, Kafka } from 'kafkajs';
import { aggregationOptions } from '../src/composition';
import { streamProcessorConfigSchema } from '../src/config';
import type { NormalizedEvent } from '../src/processing/processing.types';
import { windowKeyOf } from '../src/windowing/window-key';
import { windowStartsFor } from '../src/windowing/window-spec';
import {
  committedTotal,
  createTopics,
  deleteTopics,
  endTotal,
  exited,
  produce,
  rawMessage,
  readAll,
  runNames,
  startProcessor,
  testKafka,
  waitFor,
} from './support/kafka-fixture';
import { latestAggregates, T0 } from './support/scenario';

jest.setTimeout(120_000);

const S = 1_000;
const options = aggregationOptions(streamProcessorConfigSchema.parse({}));

function ev(id: string, atMs: number, value: number): NormalizedEvent {
  return {
    tenantId: 'acme',
    streamId: 'web',
    eventId: id,
    eventTimeMs: T0 + atMs,
    measurements: [{ metric: 'click', value }],
    attributes: { country: 'DE', user_id: `u-${id}` },
  };
}

/**
 * Independent reference with event-time semantics: in arrival order, the watermark is the max event
 * time so far minus the delay; an event is late for a window once end + allowed lateness <= watermark.
 */
function reference(events: NormalizedEvent[]) {
  const windows = new Map<string, { count: number; sum: number; late: number }>();
  const lateIds = new Set<string>();
  let maxTime = -Infinity;
  for (const e of events) {
    maxTime = Math.max(maxTime, e.eventTimeMs);
    const wm = maxTime - options.watermarkDelayMs;
    for (const spec of options.windows) {
      for (const startMs of windowStartsFor(spec, e.eventTimeMs)) {
        const late = startMs + spec.sizeMs + options.allowedLatenessMs <= wm;
        for (const [dimKey, dimValue] of [
          ['', ''],
          ['country', 'DE'],
        ] as const) {
          const key = windowKeyOf({
            tenantId: e.tenantId,
            streamId: e.streamId,
            metric: 'click',
            dimKey,
            dimValue,
            sizeMs: spec.sizeMs,
            slideMs: spec.slideMs,
            startMs,
          });
          const w = windows.get(key) ?? { count: 0, sum: 0, late: 0 };
          windows.set(key, w);
          if (late) {
            w.late++;
            lateIds.add(e.eventId);
          } else {
            w.count++;
            w.sum += e.measurements[0]?.value ?? 0;
          }
        }
      }
    }
  }
  // A window that only ever saw late events is never opened by the processor (counted as lateWithoutWindow instead).
  for (const [k, w] of windows) if (w.count === 0) windows.delete(k);
  return { windows, lateIds };
}

describe('stream-processor late and out-of-order events (real Kafka)', () => {
  const names = runNames('late');
  let kafka: Kafka;
  let admin: Admin;
  let child: ChildProcess | undefined;
  let otlp: OtlpReceiver;

  beforeAll(async () => {
    kafka = testKafka();
    admin = kafka.admin();
    await admin.connect();
    otlp = await OtlpReceiver.start();
    await createTopics(admin, [
      { topic: names.raw, partitions: 1 },
      { topic: names.aggregates, partitions: 2 },
      { topic: names.dlq, partitions: 1 },
    ]);
  });

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await deleteTopics(admin, names);
    await otlp.stop();
    await admin.disconnect();
  });

  it('puts out-of-order events within lateness into their windows, counts and dead-letters later ones, keeps going', async () => {
    // Arrival order (one partition); comments give the watermark after each event (delay 5 s, lateness 30 s).
    const input = [
      ev('e1', 1 * S, 1), // wm 1 s - 5 s
      ev('e2', 12 * S, 2), // wm 7 s
      ev('e3', 3 * S, 4), // out of order, on time for [0,10)
      ev('e4', 50 * S, 8), // wm 45 s: [0,10) (due at 40 s) closes
      ev('e5', 5 * S, 16), // late for [0,10) and the hopping windows ending by 15 s, on time for [0,60)
      ev('e6', 20 * S, 32), // out of order, on time for [20,30) (due at 60 s)
      ev('e7', 200 * S, 64), // wm 195 s: every window so far closes
      ev('e8', 6 * S, 128), // late for all of its windows
      ev('e9', 201 * S, 256), // on time: processing did not stall behind the late ones
    ];
    await produce(
      kafka,
      names.raw,
      input.map((e) => rawMessage(e, T0 + 300 * S)),
    );
    child = startProcessor(names, {}, otlp);
    const total = await endTotal(admin, names.raw);
    await waitFor('all input committed', async () => (await committedTotal(admin, names.group, names.raw)) === total, 90_000);
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);

    const latest = await latestAggregates(kafka, admin, names.aggregates);
    const want = reference(input);
    const got = new Map([...latest].map(([k, a]) => [k, { count: Number(a.count), sum: a.sum, late: Number(a.lateEvents) }]));
    expect(new Set(got.keys())).toEqual(new Set(want.windows.keys()));
    for (const [k, w] of want.windows) expect({ k, ...got.get(k) }).toEqual({ k, ...w });

    // Hand-checked spot values of the same expectations.
    const tumbling10 = latest.get(
      windowKeyOf({
        tenantId: 'acme',
        streamId: 'web',
        metric: 'click',
        dimKey: '',
        dimValue: '',
        sizeMs: 10 * S,
        slideMs: 10 * S,
        startMs: T0,
      }),
    );
    expect(tumbling10).toMatchObject({ count: 2n, sum: 5, lateEvents: 2n, final: true });
    // Newest AGGREGATED event: e3 (3 s); the later-arriving e5 (5 s) and e8 (6 s) were too late for it.
    expect(tumbling10?.maxEventTime).toEqual(new Date(T0 + 3 * S));
    const tumbling60 = latest.get(
      windowKeyOf({
        tenantId: 'acme',
        streamId: 'web',
        metric: 'click',
        dimKey: '',
        dimValue: '',
        sizeMs: 60 * S,
        slideMs: 60 * S,
        startMs: T0,
      }),
    );
    expect(tumbling60).toMatchObject({ count: 6n, sum: 1 + 2 + 4 + 8 + 16 + 32, lateEvents: 1n, final: true });
    const third = latest.get(
      windowKeyOf({
        tenantId: 'acme',
        streamId: 'web',
        metric: 'click',
        dimKey: '',
        dimValue: '',
        sizeMs: 10 * S,
        slideMs: 10 * S,
        startMs: T0 + 20 * S,
      }),
    );
    expect(third).toMatchObject({ count: 1n, sum: 32, lateEvents: 0n });
    const after = latest.get(
      windowKeyOf({
        tenantId: 'acme',
        streamId: 'web',
        metric: 'click',
        dimKey: '',
        dimValue: '',
        sizeMs: 10 * S,
        slideMs: 10 * S,
        startMs: T0 + 200 * S,
      }),
    );
    expect(after).toMatchObject({ count: 2n, sum: 64 + 256, final: false });
    expect(after?.maxEventTime).toEqual(new Date(T0 + 201 * S));

    // Too-late events: one LATE dead letter each, carrying the original record.
    const dlq = (await readAll(kafka, admin, names.dlq)).map((r) => analyticsV1.DeadLetter.decode(decodeEnvelope(r.value).data));
    expect(dlq.map((d) => ({ code: d.reasonCode, offset: Number(d.offset) }))).toEqual([
      { code: 'LATE', offset: 4 },
      { code: 'LATE', offset: 7 },
    ]);
    expect([...want.lateIds].sort()).toEqual(['e5', 'e8']);
    for (const d of dlq) {
      const original = input[Number(d.offset)] as NormalizedEvent;
      expect(decodeEnvelope(Buffer.from(d.payload)).id).toBe(original.eventId);
      expect(d.reason).toMatch(/too late/);
    }

    // One `window close` span per window that became final (exported at the SIGTERM shutdown above), a child of
    // the `aggregate window batch` span whose transaction carried the window's first final revision.
    const all = (await readAll(kafka, admin, names.aggregates)).map((r) =>
      analyticsV1.WindowAggregate.decode(decodeEnvelope(r.value).data),
    );
    const firstFinal = new Map<string, analyticsV1.WindowAggregate>();
    for (const a of all)
      if (a.final && (firstFinal.get(a.windowKey)?.revision ?? BigInt(Number.MAX_SAFE_INTEGER)) > a.revision)
        firstFinal.set(a.windowKey, a);
    const closes = otlp.spans.filter((s) => s.name === 'window close');
    const spanKey = (s: (typeof closes)[number]) =>
      `${String(s.attributes['tessera.window.dimension'])}|${Number(s.attributes['tessera.window.size_s'])}|${Number(s.attributes['tessera.window.slide_s'])}|${String(s.attributes['tessera.window.start'])}`;
    const aggKey = (a: analyticsV1.WindowAggregate) =>
      `${a.dimensionKey}|${Number(a.windowSizeSeconds)}|${Number(a.windowSlideSeconds)}|${a.windowStart?.toISOString()}`;
    expect(closes.map(spanKey).sort()).toEqual([...firstFinal.values()].map(aggKey).sort());
    const batches = new Map(otlp.spans.filter((s) => s.name === 'aggregate window batch').map((s) => [s.spanId, s]));
    for (const a of firstFinal.values()) {
      const span = closes.find((s) => spanKey(s) === aggKey(a));
      expect(span?.parentSpanId && batches.get(span.parentSpanId)?.traceId).toBe(a.traceId);
      expect(span?.attributes).toMatchObject({
        'tessera.tenant': 'acme',
        'tessera.window.metric': 'click',
        'tessera.window.revision': Number(a.revision),
        'tessera.window.events': Number(a.count),
        'tessera.window.late_events': Number(a.lateEvents),
        'tessera.window.max_event_time': a.maxEventTime?.toISOString(),
      });
    }
    expect(closes.length).toBeGreaterThanOrEqual(2 * 3); // [0,10), [10,20), [0,60) at least, total + country
  });
});
