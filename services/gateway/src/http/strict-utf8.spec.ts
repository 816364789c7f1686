import { queryIsUtf8, wellFormed } from './strict-utf8';

describe(wellFormed, () => {
  it('accepts text in any script and escaped surrogate pairs, refuses unpaired surrogates anywhere', () => {
    expect(wellFormed({ a: 'Zoë 💶', b: ['\ud83d\udcb6', 1, null, true], c: { d: 'ok' } })).toBe(true);
    expect(wellFormed({ a: 'x\ud800y' })).toBe(false);
    expect(wellFormed({ a: ['fine', { b: '\udc00' }] })).toBe(false);
    expect(wellFormed({ ['\ud800']: 1 })).toBe(false);
    expect(wellFormed('\ud83d')).toBe(false);
  });
});

describe(queryIsUtf8, () => {
  it('accepts plain and UTF-8 escaped queries, refuses escapes that are not UTF-8 text', () => {
    for (const ok of ['/v1/x', '/v1/x?a=b', '/v1/x?owner=Zo%C3%AB+%F0%9F%92%B6&b=1', '/v1/x?a=%25'])
      expect({ ok, good: queryIsUtf8(ok) }).toEqual({ ok, good: true });
    for (const bad of ['/v1/x?a=x%FFy', '/v1/x?a=%ED%A0%80', '/v1/x?a=%E0%A4', '/v1/x?a=%zz'])
      expect({ bad, good: queryIsUtf8(bad) }).toEqual({ bad, good: false });
  });
});
