import path from 'node:path';
import { loadRuleSet } from '../rules/rule-set';
import { detectFanOut, detectRapidInOut, detectStructuring, type ObservedTransfer } from './detectors';

const rules = loadRuleSet(path.resolve(__dirname, '../../rules/rules.v1.yaml')).monitoring;
const T0 = Date.parse('2026-01-05T10:00:00Z');
let n = 0;
/** A fake clock: transfers are placed at T0 + minutes. */
function tx(source: string, destination: string, amountMinor: bigint, atMinute: number, currency = 'EUR'): ObservedTransfer {
  n += 1;
  return { transferId: `t${n}`, sourceAccountId: source, destinationAccountId: destination, amountMinor, currency, occurredAt: new Date(T0 + atMinute * 60_000) };
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
    expect(detectStructuring(rules, 'A', [tx('A', 'X', 950_000n, 0), tx('A', 'Y', 1_000_000n, 1), tx('A', 'Z', 990_000n, 2)], at(2))).toBeUndefined();
    expect(detectStructuring(rules, 'A', [tx('A', 'X', 950_000n, 0), tx('A', 'Y', 500_000n, 1), tx('A', 'Z', 990_000n, 2)], at(2))).toBeUndefined();
    expect(detectStructuring(rules, 'A', [tx('A', 'X', 950_000n, 0), tx('A', 'Y', 960_000n, 1), tx('A', 'Z', 990_000n, 24 * 60 + 5)], at(24 * 60 + 5))).toBeUndefined();
  });

  it('does not mix currencies', () => {
    expect(detectStructuring(rules, 'A', [tx('A', 'X', 950_000n, 0), tx('A', 'Y', 960_000n, 1, 'USD'), tx('A', 'Z', 990_000n, 2)], at(2))).toBeUndefined();
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
