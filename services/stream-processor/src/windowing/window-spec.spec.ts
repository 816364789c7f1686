import { parseWindowSpecs, windowStartsFor } from './window-spec';

describe(parseWindowSpecs, () => {
  it('parses tumbling and hopping windows and rejects slides that do not divide the size', () => {
    expect(parseWindowSpecs('10s, 60s,60s/10s')).toEqual([
      { sizeMs: 10_000, slideMs: 10_000 },
      { sizeMs: 60_000, slideMs: 60_000 },
      { sizeMs: 60_000, slideMs: 10_000 },
    ]);
    expect(() => parseWindowSpecs('60s/7s')).toThrow(/divide/);
    expect(() => parseWindowSpecs('ten')).toThrow(/duration/);
    expect(() => parseWindowSpecs('10s,60s,10000ms')).toThrow('window "10000ms" is listed twice');
  });
});

describe(windowStartsFor, () => {
  it('assigns a tumbling window by floor, end exclusive', () => {
    expect(windowStartsFor({ sizeMs: 10_000, slideMs: 10_000 }, 25_000)).toEqual([20_000]);
    expect(windowStartsFor({ sizeMs: 10_000, slideMs: 10_000 }, 29_999)).toEqual([20_000]);
    expect(windowStartsFor({ sizeMs: 10_000, slideMs: 10_000 }, 30_000)).toEqual([30_000]);
  });

  it('puts an event into size/slide hopping windows that all contain it', () => {
    const starts = windowStartsFor({ sizeMs: 60_000, slideMs: 10_000 }, 125_000);
    expect(starts).toEqual([70_000, 80_000, 90_000, 100_000, 110_000, 120_000]);
    for (const s of starts) expect(125_000 >= s && 125_000 < s + 60_000).toBe(true);
  });

  it('handles times before the epoch', () => {
    expect(windowStartsFor({ sizeMs: 10_000, slideMs: 10_000 }, -1)).toEqual([-10_000]);
  });
});
