import { generateVectors, readVectors } from './vectors/sketches';

/**
 * The checked-in sketch vectors are what the TS sketches compute today: a change to either side fails here (and the Go
 * stage's vectors_test.go holds the Go sketches to the same file). Issue #15.
 */
describe('shared sketch vectors (tests/contract/vectors/sketches.json)', () => {
  const want = readVectors();
  const got = generateVectors();

  it('cover edge values, both signs, bucket bounds, collapsing and several precisions', () => {
    expect(want.ddsketch.length).toBeGreaterThanOrEqual(7);
    expect(want.hyperloglog.length).toBeGreaterThanOrEqual(9);
  });

  it.each(want.ddsketch.map((v, i) => [v.name, i] as const))('DDSketch: %s', (_name, i) => {
    expect(got.ddsketch[i]).toEqual(want.ddsketch[i]);
  });

  it.each(want.hyperloglog.map((v, i) => [v.name, i] as const))('HyperLogLog: %s', (_name, i) => {
    expect(got.hyperloglog[i]).toEqual(want.hyperloglog[i]);
  });
});
