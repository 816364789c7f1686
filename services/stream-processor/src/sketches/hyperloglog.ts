import { hash } from 'node:crypto';

/**
 * The 64 bits of a value's md5 the registers are computed from, as two unsigned 32-bit halves (big endian). An event
 * lands in ~24 windows (3 window families x total and 2 dimensions): it is hashed once (`HyperLogLog.hashOf`) and the
 * hash added to each (`addHash`). Hashing per window was 40% of the processor's CPU on a backlog drain (issue #11).
 */
/** 2^-r for every rank a register can hold (at most 64 - 4 + 1): the same doubles as `2 ** -r`, without the pow. */
const INVERSE_POWERS = Float64Array.from({ length: 66 }, (_, r) => 2 ** -r);

export interface HllHash {
  h1: number;
  h2: number;
}

/** Serialised registers: sparse `[index, rank]` pairs while few are set, else base64 of all of them. */
export type HyperLogLogJson = { p: number; s: Array<[number, number]> } | { p: number; d: string };

/**
 * HyperLogLog distinct counter (Flajolet et al., with linear counting for small cardinalities).
 * A 64-bit hash (from md5) makes the large-range correction unnecessary. Registers merge by max, so
 * the estimate depends only on the set of values added, never on their order: replays after a
 * restart and an offline computation give the same number.
 */
export class HyperLogLog {
  readonly registers: Uint8Array;
  private readonly m: number;

  constructor(
    readonly precision = 11,
    registers?: Uint8Array,
  ) {
    if (!Number.isInteger(precision) || precision < 4 || precision > 16) throw new RangeError('precision must be 4..16');
    this.m = 1 << precision;
    this.registers = registers ?? new Uint8Array(this.m);
    if (this.registers.length !== this.m) throw new RangeError('register count does not match precision');
  }

  /** md5 of the UTF-8 bytes, first 8 bytes; `crypto.hash` is the one-shot form (no Hash object per value). */
  static hashOf(value: string): HllHash {
    const digest = hash('md5', value, 'buffer');
    return { h1: digest.readUInt32BE(0), h2: digest.readUInt32BE(4) };
  }

  add(value: string): void {
    this.addHash(HyperLogLog.hashOf(value));
  }

  /** Adds a value by its hash (see `hashOf`): the same registers as `add(value)`. */
  addHash({ h1, h2 }: HllHash): void {
    const index = h1 >>> (32 - this.precision);
    const rest = (h1 << this.precision) >>> 0;
    const rank = rest !== 0 ? Math.clz32(rest) + 1 : 32 - this.precision + Math.clz32(h2) + 1;
    if (rank > (this.registers[index] ?? 0)) this.registers[index] = rank;
  }

  merge(other: HyperLogLog): void {
    if (other.precision !== this.precision) throw new RangeError('cannot merge HyperLogLogs of different precision');
    for (let i = 0; i < this.m; i++) {
      const r = other.registers[i] ?? 0;
      if (r > (this.registers[i] ?? 0)) this.registers[i] = r;
    }
  }

  estimate(): number {
    let sum = 0;
    let zeros = 0;
    for (let i = 0; i < this.m; i++) {
      const r = this.registers[i] as number;
      sum += INVERSE_POWERS[r] as number;
      if (r === 0) zeros++;
    }
    if (zeros === this.m) return 0;
    const alpha = 0.7213 / (1 + 1.079 / this.m);
    const raw = (alpha * this.m * this.m) / sum;
    if (raw <= 2.5 * this.m && zeros > 0) return Math.round(this.m * Math.log(this.m / zeros));
    return Math.round(raw);
  }

  toJSON(): HyperLogLogJson {
    const sparse: Array<[number, number]> = [];
    for (let i = 0; i < this.m; i++) {
      const r = this.registers[i] ?? 0;
      if (r !== 0) sparse.push([i, r]);
    }
    if (sparse.length * 4 < this.m) return { p: this.precision, s: sparse };
    return { p: this.precision, d: Buffer.from(this.registers).toString('base64') };
  }

  static fromJSON(json: HyperLogLogJson): HyperLogLog {
    if ('d' in json) return new HyperLogLog(json.p, new Uint8Array(Buffer.from(json.d, 'base64')));
    const hll = new HyperLogLog(json.p);
    for (const [i, r] of json.s) hll.registers[i] = r;
    return hll;
  }
}
