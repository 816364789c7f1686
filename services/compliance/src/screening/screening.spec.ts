import path from 'node:path';
import { loadRuleSet, parseRuleSet } from '../rules/rule-set';
import {
  DAY_SECONDS,
  evaluateInOrder,
  evaluateScreening,
  type GroupHistory,
  type ScreeningInput,
  screeningGroup,
  strictestDecision,
  windowsNeeded,
} from './screening';

const rules = loadRuleSet(path.resolve(__dirname, '../../rules/rules.v1.yaml'));
const input = (o: Partial<ScreeningInput> = {}): ScreeningInput => ({
  referenceId: 't1',
  movementKind: 'transfer',
  ownerId: 'o1',
  sourceAccountId: 'a',
  destinationAccountId: 'b',
  amountMinor: 10_000n,
  currency: 'EUR',
  counterpartyName: 'x',
  counterpartyCountry: 'DE',
  ...o,
});
const empty = () => new Map(windowsNeeded(rules).map((w) => [w, { count: 0, amountMinor: 0n }]));

describe('evaluateScreening', () => {
  it('approves a clean movement with no reasons', () => {
    expect(evaluateScreening(rules, input(), { windows: empty(), sanctionsHit: undefined })).toEqual({
      decision: 'APPROVE',
      reasons: [],
      riskScore: 0,
    });
  });

  it('reviews above the review threshold and declines above the maximum', () => {
    expect(evaluateScreening(rules, input({ amountMinor: 1_000_001n }), { windows: empty(), sanctionsHit: undefined }).decision).toBe(
      'REVIEW',
    );
    expect(
      evaluateScreening(rules, input({ amountMinor: 5_000_001n }), { windows: empty(), sanctionsHit: undefined }).reasons.map(
        (r) => r.code,
      ),
    ).toContain('COMPLIANCE.AMOUNT_OVER_LIMIT');
  });

  it('counts the current movement into the daily limit and velocity', () => {
    const windows = empty();
    windows.set(DAY_SECONDS, { count: 3, amountMinor: 9_995_000n });
    windows.set(60, { count: 10, amountMinor: 0n });
    const out = evaluateScreening(rules, input(), { windows, sanctionsHit: undefined });
    expect(out.decision).toBe('DECLINE');
    expect(out.reasons.map((r) => r.ruleId)).toEqual(['limits.daily_max', 'velocity.burst_count']);
  });

  it('lets the strictest action win and reports every fired rule', () => {
    const out = evaluateScreening(rules, input({ counterpartyCountry: 'af' }), {
      windows: empty(),
      sanctionsHit: { entryId: 'TSL-0001', program: 'P', aliasIndex: 0, score: 0.97 },
    });
    expect(out.decision).toBe('DECLINE');
    expect(out.reasons.map((r) => r.code)).toEqual(['COMPLIANCE.COUNTRY_HIGH_RISK', 'COMPLIANCE.SANCTIONS_MATCH']);
    expect(out.riskScore).toBe(97);
  });
});

describe('evaluateInOrder', () => {
  const movements = (n: number, o: Partial<ScreeningInput> = {}) =>
    Array.from({ length: n }, () => ({ input: input(o), sanctionsHit: undefined }));
  const decide = (...args: Parameters<typeof evaluateInOrder>) => evaluateInOrder(...args).map((d) => d.outcome);

  it('decides as consecutive Screens would: the 11th movement of an owner within a minute goes to review', () => {
    const out = decide(rules, movements(12), new Map());
    expect(out.map((o) => o.decision)).toEqual([...Array(10).fill('APPROVE'), 'REVIEW', 'REVIEW']);
    expect(out[10]!.reasons.map((r) => r.ruleId)).toEqual(['velocity.burst_count']);
  });

  it('returns each movement with its outcome, in order', () => {
    const ms = [...movements(1, { referenceId: 'first' }), ...movements(1, { referenceId: 'second', counterpartyCountry: 'KP' })];
    expect(evaluateInOrder(rules, ms, new Map()).map((d) => [d.movement, d.outcome.decision])).toEqual([
      [ms[0], 'APPROVE'],
      [ms[1], 'DECLINE'],
    ]);
  });

  it('starts from the stored history of each group and leaves it untouched', () => {
    const history: GroupHistory = new Map([[screeningGroup(input()), new Map([[60, { count: 9, amountMinor: 90_000n }]])]]);
    const out = decide(rules, [...movements(2), ...movements(2, { ownerId: 'o2' })], history);
    expect(out.map((o) => o.decision)).toEqual(['APPROVE', 'REVIEW', 'APPROVE', 'APPROVE']);
    expect(history.get(screeningGroup(input()))!.get(60)).toEqual({ count: 9, amountMinor: 90_000n });
  });

  it('counts approved and held amounts into the daily limit of the next movements, declined ones not', () => {
    // dailyMax EUR 10,000,000: 3 x 3,000,000 pass (review: over the per-transfer review threshold), the 4th would exceed it.
    const big = movements(4, { amountMinor: 3_000_000n, currency: 'USD' });
    const declined = { input: input({ amountMinor: 6_000_000n, currency: 'USD' }), sanctionsHit: undefined };
    const out = decide(rules, [declined, ...big], new Map());
    expect(out.map((o) => o.decision)).toEqual(['DECLINE', 'REVIEW', 'REVIEW', 'REVIEW', 'DECLINE']);
    expect(out[4]!.reasons.map((r) => r.ruleId)).toContain('limits.daily_max');
  });

  it('keeps currencies of one owner apart', () => {
    const out = decide(rules, [...movements(10), ...movements(1, { currency: 'USD' }), ...movements(1)], new Map());
    expect(out.slice(10).map((o) => o.decision)).toEqual(['APPROVE', 'REVIEW']);
  });
});

describe('strictestDecision', () => {
  it('orders APPROVE < REVIEW < DECLINE and is APPROVE for none', () => {
    expect(strictestDecision([])).toBe('APPROVE');
    expect(strictestDecision(['APPROVE', 'REVIEW', 'APPROVE'])).toBe('REVIEW');
    expect(strictestDecision(['DECLINE', 'REVIEW'])).toBe('DECLINE');
  });
});

describe('parseRuleSet', () => {
  it('refuses a file whose declared version differs from its name, and invalid thresholds', () => {
    expect(() => parseRuleSet('version: v2\n', '/x/rules.v1.yaml')).toThrow(/rules\.v1\.yaml/);
    const text = require('node:fs')
      .readFileSync(path.resolve(__dirname, '../../rules/rules.v1.yaml'), 'utf8')
      .replace('reviewThreshold: 0.90', 'reviewThreshold: 0.99');
    expect(() => parseRuleSet(text, '/x/rules.v1.yaml')).toThrow('reviewThreshold must not exceed declineThreshold');
  });
});
