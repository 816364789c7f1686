import { commonV1 } from '@tessera/contracts';
import { decodeEnvelope } from '@tessera/kafka';
import { outboxRows } from './outbox.rows';

describe('outboxRows', () => {
  it('stores each event as its encoded envelope, in order, with the type header', () => {
    const ping = (id: string) => ({
      topic: 'platform.pings.v1',
      key: 'k',
      type: 'tessera.common.v1.Ping',
      subject: id,
      message: commonV1.Ping.fromPartial({ id, message: 'hi' }),
      codec: commonV1.Ping,
    });
    const rows = outboxRows('svc', [ping('a'), ping('b')]);
    expect(rows.map((r) => r.headers)).toEqual([{ type: 'tessera.common.v1.Ping' }, { type: 'tessera.common.v1.Ping' }]);
    const envelopes = rows.map((r) => decodeEnvelope(Buffer.from(r.payload)));
    expect(envelopes.map((e) => [e.id, e.source, e.subject, e.type])).toEqual([
      [rows[0]!.id, 'svc', 'a', 'tessera.common.v1.Ping'],
      [rows[1]!.id, 'svc', 'b', 'tessera.common.v1.Ping'],
    ]);
    expect(commonV1.Ping.decode(envelopes[1]!.data).id).toBe('b');
    expect(rows[0]!.id).not.toBe(rows[1]!.id);
  });
});
