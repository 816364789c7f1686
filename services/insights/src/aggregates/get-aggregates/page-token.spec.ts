import { decodePageToken, encodePageToken, queryHashOf } from './page-token';

describe('page tokens', () => {
  it('round-trip the keyset position, resolution and query digest', () => {
    const token = {
      resolution: 10,
      windowStart: new Date('2026-01-01T00:00:10Z'),
      windowKey: 'a|b|c|=|10|10|1',
      queryHash: queryHashOf({ a: 1 }),
    };
    expect(decodePageToken(encodePageToken(token))).toEqual(token);
  });

  it.each([
    '',
    'not-base64!',
    Buffer.from('{"v":2}').toString('base64url'),
    Buffer.from('{"v":1,"r":0,"s":1,"k":"x","q":""}').toString('base64url'),
  ])('rejects %j', (raw) => expect(decodePageToken(raw)).toBeUndefined());

  it('digests different filters differently', () => {
    expect(queryHashOf({ tenantId: 'a' })).not.toBe(queryHashOf({ tenantId: 'b' }));
  });
});
