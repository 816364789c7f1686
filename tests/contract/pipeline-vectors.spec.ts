import { readFileSync } from 'node:fs';
import { generatePipelineVectors, PIPELINE_VECTORS_FILE, type PipelineVectors } from './vectors/pipeline';

/**
 * The checked-in pipeline vectors are what the TS stage's processing core computes today (a change to it, or to the
 * file, fails here); services/stream-processor/test/vectors.int-spec.ts holds both running stages to the same file.
 */
describe('shared pipeline vectors (tests/contract/vectors/pipeline.json)', () => {
  const want = JSON.parse(readFileSync(PIPELINE_VECTORS_FILE, 'utf8')) as PipelineVectors;
  const got = generatePipelineVectors();

  it('hold every kind of input: duplicates, late and too-late events, each malformation, edge values', () => {
    const notes = new Set(want.records.map((r) => r.note));
    for (const n of [
      'duplicate (resent within the horizon)',
      'too late for every window',
      'garbage bytes',
      'another contract',
      'truncated payload',
      'NaN value',
      'edge value 1e308 (valid)',
    ])
      expect(notes).toContain(n);
    expect(new Set(want.deadLetters.map((d) => d.code))).toEqual(
      new Set([
        'ANALYTICS.INVALID_ENVELOPE',
        'ANALYTICS.UNEXPECTED_TYPE',
        'ANALYTICS.INVALID_PAYLOAD',
        'ANALYTICS.INVALID_EVENT',
        'ANALYTICS.FUTURE_EVENT_TIME',
        'LATE',
      ]),
    );
    expect(want.aggregates.some((a) => a.late > 0) && want.aggregates.some((a) => !a.final)).toBe(true);
  });

  it('are what the reference computes (records, windows, dead letters)', () => {
    expect(got.records).toEqual(want.records);
    expect(got.deadLetters).toEqual(want.deadLetters);
    expect(got.aggregates).toEqual(want.aggregates);
  });
});
