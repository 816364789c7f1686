import path from 'node:path';
import { loadRuleSet, parseRuleSet } from '../rules/rule-set';
import { DAY_SECONDS, evaluateScreening, type ScreeningInput, windowsNeeded } from './screening';

const rules = loadRuleSet(path.resolve(__dirname, '../../rules/rules.v1.yaml'));
const input = (o: Partial<ScreeningInput> = {}): ScreeningInput => ({
  referenceId: 't1', movementKind: 'transfer', ownerId: 'o1', sourceAccountId: 'a', destinationAccountId: 'b',
  amountMinor: 10_000n, currency: 'EUR', counterpartyName: 'x', counterpartyCountry: 'DE', ...o,
});
const empty = () => new Map(windowsNeeded(rules).map((w) => [w, { count: 0, amountMinor: 0n }]));

describe('evaluateScreening', () => {
  it('approves a clean movement with no reasons', () => {
    expect(evaluateScreening(rules, input(), { windows: empty(), sanctionsHit: undefined })).toEqual({ decision: 'APPROVE', reasons: [], riskScore: 0 });
  });

  it('reviews above the review threshold and declines above the maximum', () => {
    expect(evaluateScreening(rules, input({ amountMinor: 1_000_001n }), { windows: empty(), sanctionsHit: undefined }).decision).toBe('REVIEW');
    expect(evaluateScreening(rules, input({ amountMinor: 5_000_001n }), { windows: empty(), sanctionsHit: undefined }).reasons.map((r) => r.code)).toContain('COMPLIANCE.AMOUNT_OVER_LIMIT');
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
    const out = evaluateScreening(rules, input({ counterpartyCountry: 'af' }), { windows: empty(), sanctionsHit: { entryId: 'TSL-0001', program: 'P', aliasIndex: 0, score: 0.97 } });
    expect(out.decision).toBe('DECLINE');
    expect(out.reasons.map((r) => r.code)).toEqual(['COMPLIANCE.COUNTRY_HIGH_RISK', 'COMPLIANCE.SANCTIONS_MATCH']);
    expect(out.riskScore).toBe(97);
  });
});

describe('parseRuleSet', () => {
  it('refuses a file whose declared version differs from its name, and invalid thresholds', () => {
    expect(() => parseRuleSet('version: v2\n', '/x/rules.v1.yaml')).toThrow(/rules\.v1\.yaml/);
    const text = require('node:fs').readFileSync(path.resolve(__dirname, '../../rules/rules.v1.yaml'), 'utf8').replace('reviewThreshold: 0.90', 'reviewThreshold: 0.99');
    expect(() => parseRuleSet(text, '/x/rules.v1.yaml')).toThrow('reviewThreshold must not exceed declineThreshold');
  });
});
