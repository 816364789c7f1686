import { complianceV1 } from '@tessera/contracts';
import type { MethodPolicy } from '@tessera/auth';
import { COMPLIANCE_POLICY } from './compliance.policy';

describe('COMPLIANCE_POLICY', () => {
  it('has a policy for every RPC of ComplianceService', () => {
    const table: Readonly<Record<string, MethodPolicy>> = COMPLIANCE_POLICY;
    expect(Object.keys(complianceV1.ComplianceServiceService).filter((rpc) => table[rpc] === undefined)).toEqual([]);
  });

  it('lets only transactions call Screen, and only compliance officers decide alerts', () => {
    expect(COMPLIANCE_POLICY.screen).toEqual({ services: ['transactions'] });
    expect(COMPLIANCE_POLICY.resolveAlert).toEqual({ scope: 'alerts:decide', role: 'compliance-officer' });
    expect(COMPLIANCE_POLICY.assignAlert).toEqual({ scope: 'alerts:decide', role: 'compliance-officer' });
  });
});
