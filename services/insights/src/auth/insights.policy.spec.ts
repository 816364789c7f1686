import { analyticsV1 } from '@tessera/contracts';
import type { MethodPolicy } from '@tessera/auth';
import { INSIGHTS_POLICY } from './insights.policy';

describe('INSIGHTS_POLICY', () => {
  it('has a policy for every RPC of InsightsService', () => {
    const table: Readonly<Record<string, MethodPolicy>> = INSIGHTS_POLICY;
    expect(Object.keys(analyticsV1.InsightsServiceService).filter((rpc) => table[rpc] === undefined)).toEqual([]);
  });

  it('needs insights:read everywhere (API keys accepted)', () => {
    expect(Object.values(INSIGHTS_POLICY)).toEqual(Object.values(INSIGHTS_POLICY).map(() => ({ scope: 'insights:read', apiKey: true })));
  });
});
