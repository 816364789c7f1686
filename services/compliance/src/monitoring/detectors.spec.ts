import path from 'node:path';
import { loadRuleSet } from '../rules/rule-set';
import {
  detectFanOut,
  detectRapidInOut,
  detectStructuring,
  type Finding,
  mayFanOut,
  mayRapidInOut,
  type ObservedTransfer,
  structuringBands,
} from './detectors';

const rules = loadRuleSet(path.resolve(__dirname, '../../rules/rules.v1.yaml')).monitoring;
const T0 = Date.parse('2026-01-05T10:00:00Z');
let n = 0;
/** A fake clock: transfers are placed at T0 + minutes. */
function tx(source: string, destination: string, amountMinor: bigint, atMinute: number, currency = 'EUR'): ObservedTransfer {
  n += 1;
  return {
    transferId: `t${n}`,
    sourceAccountId: source,
    destinationAccountId: destination,
    amountMinor,
    currency,
    occurredAt: new Date(T0 + atMinute * 60_000),
  };
}
const at = (minute: number) => new Date(T0 + minute * 60_000);

describe('detectStructuring', () => {
  it('fires on three transfers just below the threshold within the window', () => {
    const history = [tx('A', 'X', 950_000n, 0), tx('A', 'Y', 990_000n, 60), tx('A', 'Z', 999_999n, 300)];
    const finding = detectStructuring(rules, 'A', history, at(300));
    expect(finding).toMatchObject({ ruleId: 'aml.structuring', accountId: 'A', severity: 'HIGH' });
    expect(finding?.transferIds).toHaveLength(3);
  });

  it('ignores amounts at or above the threshold, far below it, or outside the window', () => {
    expect(
      detectStructuring(rules, 'A', [tx('A', 'X', 950_000n, 0), tx('A', 'Y', 1_000_000n, 1), tx('A', 'Z', 990_000n, 2)], at(2)),
    ).toBeUndefined();
    expect(
      detectStructuring(rules, 'A', [tx('A', 'X', 950_000n, 0), tx('A', 'Y', 500_000n, 1), tx('A', 'Z', 990_000n, 2)], at(2)),
    ).toBeUndefined();
    expect(
      detectStructuring(
        rules,
        'A',
        [tx('A', 'X', 950_000n, 0), tx('A', 'Y', 960_000n, 1), tx('A', 'Z', 990_000n, 24 * 60 + 5)],
        at(24 * 60 + 5),
      ),
    ).toBeUndefined();
  });

  it('does not mix currencies', () => {
    expect(
      detectStructuring(rules, 'A', [tx('A', 'X', 950_000n, 0), tx('A', 'Y', 960_000n, 1, 'USD'), tx('A', 'Z', 990_000n, 2)], at(2)),
    ).toBeUndefined();
  });
});

describe('detectRapidInOut', () => {
  it('fires when most of an incoming amount leaves within minutes, whatever order the events arrive in', () => {
    const history = [tx('B', 'O', 700_000n, 5), tx('S', 'B', 800_000n, 0)];
    expect(detectRapidInOut(rules, 'B', history)).toMatchObject({ ruleId: 'aml.rapid_in_out', accountId: 'B' });
  });

  it('ignores outflows after the window, small inflows and small outflows', () => {
    expect(detectRapidInOut(rules, 'B', [tx('S', 'B', 800_000n, 0), tx('B', 'O', 700_000n, 16)])).toBeUndefined();
    expect(detectRapidInOut(rules, 'B', [tx('S', 'B', 100_000n, 0), tx('B', 'O', 100_000n, 1)])).toBeUndefined();
    expect(detectRapidInOut(rules, 'B', [tx('S', 'B', 800_000n, 0), tx('B', 'O', 400_000n, 1)])).toBeUndefined();
  });
});

describe('detectRapidInOut (one sweep per currency)', () => {
  /** The rule as first written (O(n²)): the sweep must return exactly what this returns. */
  function reference(accountId: string, history: ObservedTransfer[], involving?: Date): Finding | undefined {
    const r = rules.rapidInOut;
    const windowMs = r.windowSeconds * 1000;
    const within = (t: ObservedTransfer, from: number, to: number) => t.occurredAt.getTime() >= from && t.occurredAt.getTime() <= to;
    const incoming = history
      .filter((t) => t.destinationAccountId === accountId)
      .sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime());
    for (const first of incoming) {
      const minIn = r.minInAmount[first.currency];
      if (minIn === undefined) continue;
      const start = first.occurredAt.getTime();
      if (involving && (start < involving.getTime() - windowMs || start > involving.getTime())) continue;
      const end = start + windowMs;
      const ins = incoming.filter((t) => t.currency === first.currency && within(t, start, end));
      const outs = history.filter((t) => t.sourceAccountId === accountId && t.currency === first.currency && within(t, start, end));
      const inSum = ins.reduce((s, t) => s + t.amountMinor, 0n);
      const outSum = outs.reduce((s, t) => s + t.amountMinor, 0n);
      if (outs.length > 0 && inSum >= minIn && outSum * 100n >= inSum * BigInt(r.minOutRatioPercent)) {
        return {
          ruleId: 'aml.rapid_in_out',
          accountId,
          severity: 'MEDIUM',
          transferIds: [...ins, ...outs].map((t) => t.transferId),
          reasons: [
            {
              code: 'COMPLIANCE.AML_RAPID_IN_OUT',
              ruleId: 'aml.rapid_in_out',
              description: `${outSum} of ${inSum} ${first.currency} minor units left the account within ${r.windowSeconds}s of arriving`,
            },
          ],
        };
      }
    }
    return undefined;
  }

  it('returns what the quadratic rule returns (first pattern, transfer order) on random unsorted histories', () => {
    let seed = 42;
    const random = (k: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % k;
    };
    const pick = <T>(xs: readonly T[]): T => xs[random(xs.length)]!;
    let found = 0;
    for (let run = 0; run < 1500; run++) {
      const history = Array.from({ length: 1 + random(25) }, () => {
        const incoming = random(2) === 0;
        const other = random(4) === 0 ? 'B' : pick(['S', 'O', 'P']);
        // Whole minutes over an hour, so equal times and window edges (15 min) are common.
        return tx(
          incoming ? other : 'B',
          incoming ? 'B' : other,
          pick([50_000n, 300_000n, 450_000n, 500_000n, 600_000n, 800_000n]),
          random(60),
          pick(['EUR', 'EUR', 'USD', 'XYZ']),
        );
      });
      const involving = random(2) === 0 ? at(random(60)) : undefined;
      const expected = reference('B', history, involving);
      if (expected) found += 1;
      expect(detectRapidInOut(rules, 'B', history, involving)).toEqual(expected);
    }
    expect(found).toBeGreaterThan(100);
  });

  it('with an instant, finds only patterns whose window contains it', () => {
    const history = [tx('S', 'B', 800_000n, 0), tx('B', 'O', 700_000n, 5)];
    expect(detectRapidInOut(rules, 'B', history, at(5))).toMatchObject({ ruleId: 'aml.rapid_in_out' });
    expect(detectRapidInOut(rules, 'B', history, at(15))).toMatchObject({ ruleId: 'aml.rapid_in_out' });
    expect(detectRapidInOut(rules, 'B', history, at(15.01))).toBeUndefined();
    expect(detectRapidInOut(rules, 'B', history, at(-0.01))).toBeUndefined();
  });
});

describe('structuringBands', () => {
  it('gives each currency with a threshold its band [threshold - bandPercent, threshold)', () => {
    const bands = structuringBands(rules);
    expect(bands).toContainEqual({ currency: 'EUR', floor: 900_000n, threshold: 1_000_000n });
    expect(bands).toContainEqual({ currency: 'GBP', floor: 810_000n, threshold: 900_000n });
    expect(bands.map((b) => b.currency).sort()).toEqual(Object.keys(rules.structuring.thresholds).sort());
  });
});

describe('mayRapidInOut', () => {
  const totals = (inSum: bigint, outCount: number, outSum: bigint, currency = 'EUR') => [{ currency, inSum, outCount, outSum }];

  it('is true only when one currency reaches the minimum in, has a transfer out and enough of the minimum out', () => {
    expect(mayRapidInOut(rules, totals(500_000n, 1, 400_000n))).toBe(true);
    expect(mayRapidInOut(rules, [...totals(9_000_000n, 0, 0n, 'USD'), ...totals(500_000n, 1, 400_000n)])).toBe(true);
    expect(mayRapidInOut(rules, totals(499_999n, 1, 400_000n))).toBe(false);
    expect(mayRapidInOut(rules, totals(5_000_000n, 0, 0n))).toBe(false);
    expect(mayRapidInOut(rules, totals(5_000_000n, 3, 399_999n))).toBe(false);
    expect(mayRapidInOut(rules, totals(5_000_000n, 1, 5_000_000n, 'XYZ'))).toBe(false);
    expect(mayRapidInOut(rules, [])).toBe(false);
  });

  it('never rules out a history the detector would flag', () => {
    const history = [tx('S', 'B', 800_000n, 0), tx('B', 'O', 700_000n, 5), tx('S', 'B', 2_000_000n, 20)];
    expect(detectRapidInOut(rules, 'B', history)).toBeDefined();
    expect(mayRapidInOut(rules, totals(2_800_000n, 1, 700_000n))).toBe(true);
  });
});

describe('mayFanOut', () => {
  it('needs at least minNewCounterparties distinct destinations', () => {
    expect(mayFanOut(rules, rules.fanOut.minNewCounterparties)).toBe(true);
    expect(mayFanOut(rules, rules.fanOut.minNewCounterparties - 1)).toBe(false);
  });
});

describe('detectFanOut', () => {
  it('fires on five new counterparties within the hour', () => {
    const history = ['D1', 'D2', 'D3', 'D4', 'D5'].map((d, i) => tx('C', d, 1_000n, i * 5));
    expect(detectFanOut(rules, 'C', history, new Set(), at(25))).toMatchObject({ ruleId: 'aml.fan_out', transferIds: expect.any(Array) });
  });

  it('does not count counterparties paid before, repeat payments, or payments outside the window', () => {
    const repeat = ['D1', 'D1', 'D2', 'D3', 'D4'].map((d, i) => tx('C', d, 1_000n, i));
    expect(detectFanOut(rules, 'C', repeat, new Set(), at(5))).toBeUndefined();
    const known = ['D1', 'D2', 'D3', 'D4', 'D5'].map((d, i) => tx('C', d, 1_000n, i));
    expect(detectFanOut(rules, 'C', known, new Set(['D5']), at(5))).toBeUndefined();
    const slow = ['D1', 'D2', 'D3', 'D4', 'D5'].map((d, i) => tx('C', d, 1_000n, i * 20));
    expect(detectFanOut(rules, 'C', slow, new Set(), at(80))).toBeUndefined();
  });
});
