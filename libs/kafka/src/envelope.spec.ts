import { commonV1 } from '@tessera/contracts';
import { buildEnvelope, decodeEnvelope, encodeEnvelope, envelopeHeaders, eventTypeOf } from './envelope';
import { PoisonMessageError } from './retry-policy';

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('buildEnvelope', () => {
  it('wraps a message encoded with its codec and fills the envelope fields', () => {
    const ping = commonV1.Ping.fromPartial({});
    const now = new Date('2030-01-02T03:04:05.000Z');
    const envelope = buildEnvelope(
      { type: 'tessera.common.v1.Ping', subject: 'acc-1', message: ping, codec: commonV1.Ping },
      'gateway',
      { traceparent: TRACEPARENT, tracestate: 'k=v' },
      () => now,
    );
    // A UUIDv7: time-ordered, so the unique indexes on event ids take new ids at their right edge (docs/ids.md).
    expect(envelope.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(envelope).toMatchObject({
      type: 'tessera.common.v1.Ping',
      source: 'gateway',
      subject: 'acc-1',
      time: now,
      schemaVersion: 1,
      traceparent: TRACEPARENT,
      tracestate: 'k=v',
      dataContentType: 'application/protobuf',
    });
    expect(Buffer.from(envelope.data)).toEqual(Buffer.from(commonV1.Ping.encode(ping).finish()));
  });

  it('gives later envelopes greater ids (time-ordered, also within one millisecond)', () => {
    const build = () =>
      buildEnvelope(
        { type: 'tessera.common.v1.Ping', subject: 's', message: commonV1.Ping.fromPartial({}), codec: commonV1.Ping },
        'gateway',
        {},
      ).id;
    const ids = Array.from({ length: 1000 }, build);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('keeps a supplied id and raw bytes', () => {
    const envelope = buildEnvelope({ type: 't.v1.X', subject: 's', id: 'fixed', data: new Uint8Array([1, 2]) }, 'svc', {});
    expect(envelope.id).toBe('fixed');
    expect(Array.from(envelope.data)).toEqual([1, 2]);
    expect(envelope.traceparent).toBe('');
  });
});

describe('encodeEnvelope / decodeEnvelope', () => {
  it('round-trips through the wire format', () => {
    const envelope = buildEnvelope({ type: 't.v1.X', subject: 's', data: new Uint8Array([9]) }, 'svc', { traceparent: TRACEPARENT });
    const decoded = decodeEnvelope(encodeEnvelope(envelope));
    expect(decoded).toEqual(envelope);
  });

  it('rejects empty and non-envelope values as poison', () => {
    expect(() => decodeEnvelope(null)).toThrow(PoisonMessageError);
    expect(() => decodeEnvelope(Buffer.from('not protobuf at all \xff\xff'))).toThrow(PoisonMessageError);
    expect(() =>
      decodeEnvelope(Buffer.from(commonV1.EventEnvelope.encode(commonV1.EventEnvelope.fromPartial({ source: 'x' })).finish())),
    ).toThrow(/lacks id or type/);
  });
});

describe('envelopeHeaders', () => {
  it('mirrors id, type and trace context into Kafka headers', () => {
    const envelope = buildEnvelope(
      { type: 't.v1.X', subject: 's', data: new Uint8Array() },
      'svc',
      { traceparent: TRACEPARENT },
      () => new Date(),
    );
    const headers = envelopeHeaders(envelope, { tenant: 't1' });
    expect(headers).toMatchObject({ ce_id: envelope.id, ce_type: 't.v1.X', ce_source: 'svc', traceparent: TRACEPARENT, tenant: 't1' });
    expect(headers).not.toHaveProperty('tracestate');
    expect(eventTypeOf({ ce_type: Buffer.from('t.v1.X') })).toBe('t.v1.X');
  });
});
