import { trace, TraceFlags } from '@opentelemetry/api';
import type { InputRecord } from '../processing/processing.types';
import { contributorLinks, parseTraceparent, traceIdOf } from './batch-trace';

const tp = (i: number) => `00-${i.toString(16).padStart(32, '0')}-${i.toString(16).padStart(16, '0')}-01`;
const event = (traceparent?: string): InputRecord => ({
  kind: 'event',
  event: { tenantId: 't', streamId: 's', eventId: 'e', eventTimeMs: 0, measurements: [], attributes: {} },
  ...(traceparent ? { traceparent } : {}),
  offset: '0',
  key: null,
  value: null,
  timestampMs: 0,
});

describe(parseTraceparent, () => {
  it('parses a valid traceparent into a remote context', () => {
    expect(parseTraceparent(tp(7))).toEqual({ traceId: tp(7).slice(3, 35), spanId: tp(7).slice(36, 52), traceFlags: 1, isRemote: true });
  });
  it.each([
    '',
    'junk',
    `ff-${'1'.repeat(32)}-${'1'.repeat(16)}-01`,
    `00-${'0'.repeat(32)}-${'1'.repeat(16)}-01`,
    `00-${'1'.repeat(32)}-${'0'.repeat(16)}-01`,
  ])('rejects %p', (value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });
});

describe(contributorLinks, () => {
  it('keeps the newest distinct contributors, up to the cap, and counts the rest as dropped', () => {
    const records: InputRecord[] = [
      event(tp(1)),
      event(),
      { kind: 'poison', code: 'X', reason: 'r', offset: '1', key: null, value: null, timestampMs: 0 },
      event(tp(2)),
      event(tp(3)),
      event(tp(3)),
    ];
    const { links, dropped } = contributorLinks(records, 2);
    expect(links.map((l) => l.context.spanId)).toEqual([tp(3).slice(36, 52), tp(2).slice(36, 52)]);
    expect(dropped).toBe(1);
  });
});

describe(traceIdOf, () => {
  it('is empty for a no-op span and the trace id for a real context', () => {
    expect(traceIdOf(trace.wrapSpanContext({ traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 0 }))).toBe('');
    expect(traceIdOf(trace.wrapSpanContext(parseTraceparent(tp(9))!))).toBe(tp(9).slice(3, 35));
  });

  it('is empty for a span the sampler dropped: it is never exported, so there is no trace to link to', () => {
    const sampled = parseTraceparent(tp(9))!;
    expect(traceIdOf(trace.wrapSpanContext({ ...sampled, traceFlags: TraceFlags.NONE }))).toBe('');
  });
});
