/**
 * Shared sketch vectors (issue #15): inputs for the window sketches and the outputs the reference implementation (the TS
 * stream processor's DDSketch and HyperLogLog) gives for them, checked in as `sketches.json`. The TS stage reproduces
 * them in `sketch-vectors.spec.ts`, the Go stage in `services/stream-processor-go/internal/sketch/vectors_test.go`:
 * both must give the same bits. Regenerate (only when the reference changes on purpose):
 *   npx tsx --conditions=@tessera/source tests/contract/vectors/sketches.ts --write
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
/* eslint-disable @nx/enforce-module-boundaries -- the vectors are the stream processor's own reference output */
import { DDSketch, type DDSketchJson } from '../../../services/stream-processor/src/sketches/ddsketch';
import { HyperLogLog, type HyperLogLogJson } from '../../../services/stream-processor/src/sketches/hyperloglog';
/* eslint-enable @nx/enforce-module-boundaries */

export const VECTORS_FILE = join(__dirname, 'sketches.json');
export const QUANTILES = [0, 0.01, 0.25, 0.5, 0.75, 0.95, 0.99, 1];

export interface DDSketchVector {
  name: string;
  alpha: number;
  values: number[];
  quantiles: number[];
  json: DDSketchJson;
}
export interface HllVector {
  name: string;
  precision: number;
  /** The values added: `${prefix}0` ... `${prefix}${n - 1}`. */
  prefix: string;
  n: number;
  estimate: number;
  json: HyperLogLogJson;
}
export interface SketchVectors {
  quantiles: number[];
  ddsketch: DDSketchVector[];
  hyperloglog: HllVector[];
}

/** A deterministic generator (32-bit LCG, Numerical Recipes constants): the inputs never depend on a library. */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

function inputs(): Array<{ name: string; alpha: number; values: number[] }> {
  const r = lcg(15);
  const lognormal = Array.from({ length: 2000 }, () =>
    Math.round(350 * Math.exp(0.6 * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()))),
  );
  return [
    { name: 'integers 1..1000', alpha: 0.01, values: Array.from({ length: 1000 }, (_, i) => i + 1) },
    { name: 'load times (lognormal, rounded ms)', alpha: 0.01, values: lognormal },
    {
      name: 'mixed signs and zeros',
      alpha: 0.01,
      values: Array.from({ length: 600 }, (_, i) => (i % 7 === 0 ? 0 : (i % 2 ? -1 : 1) * (((i * 7919) % 10007) / 7))),
    },
    {
      name: 'edge values',
      alpha: 0.01,
      values: [
        1e308,
        -1e300,
        5e-324,
        -5e-324,
        1e-300,
        0,
        -1e-310,
        1,
        -1,
        0.1,
        2 ** 53,
        -(2 ** 53),
        Number.MAX_VALUE,
        Number.MIN_VALUE * 1e12,
      ],
    },
    { name: 'bucket bounds (powers of gamma)', alpha: 0.01, values: Array.from({ length: 400 }, (_, i) => (1.01 / 0.99) ** (i - 200)) },
    { name: 'collapse past 2048 bins', alpha: 0.01, values: Array.from({ length: 5000 }, () => 10 ** (r() * 400 - 200)) },
    { name: 'alpha 2%', alpha: 0.02, values: lognormal.slice(0, 500) },
  ];
}

export function generateVectors(): SketchVectors {
  const ddsketch = inputs().map(({ name, alpha, values }) => {
    const s = new DDSketch(alpha);
    for (const v of values) s.add(v);
    return { name, alpha, values, quantiles: s.quantiles(QUANTILES), json: s.toJSON() };
  });
  const hyperloglog = [
    ...[0, 1, 10, 100, 1000, 5000, 50000].map((n) => ({ precision: 11, prefix: 'u', n })),
    { precision: 14, prefix: 'user-', n: 20000 },
    { precision: 4, prefix: 'ü-🦊-', n: 300 },
  ].map(({ precision, prefix, n }) => {
    const h = new HyperLogLog(precision);
    for (let i = 0; i < n; i++) h.add(`${prefix}${i}`);
    return { name: `${n} values ${prefix}*, p=${precision}`, precision, prefix, n, estimate: h.estimate(), json: h.toJSON() };
  });
  return { quantiles: QUANTILES, ddsketch, hyperloglog };
}

export function readVectors(): SketchVectors {
  return JSON.parse(readFileSync(VECTORS_FILE, 'utf8')) as SketchVectors;
}

if (require.main === module && process.argv.includes('--write')) {
  writeFileSync(VECTORS_FILE, `${JSON.stringify(generateVectors(), null, 1)}\n`);
  console.log(`wrote ${VECTORS_FILE}`);
}
