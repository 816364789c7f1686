import { coversAny } from './alert.repository';

describe('coversAny', () => {
  const alert = { ruleId: 'aml.rapid_in_out', accountId: 'acc-1', transferIds: ['t1', 't2'] };

  it('is true for the same rule and account sharing a transfer', () => {
    expect(coversAny([alert], { ruleId: 'aml.rapid_in_out', accountId: 'acc-1', transferIds: ['t2', 't3'] })).toBe(true);
  });

  it('is false without a shared transfer, or for another rule or account', () => {
    expect(coversAny([alert], { ruleId: 'aml.rapid_in_out', accountId: 'acc-1', transferIds: ['t3'] })).toBe(false);
    expect(coversAny([alert], { ruleId: 'aml.fan_out', accountId: 'acc-1', transferIds: ['t1'] })).toBe(false);
    expect(coversAny([alert], { ruleId: 'aml.rapid_in_out', accountId: 'acc-2', transferIds: ['t1'] })).toBe(false);
    expect(coversAny([], { ruleId: 'aml.rapid_in_out', accountId: 'acc-1', transferIds: ['t1'] })).toBe(false);
  });
});
