import { analyticsV1 } from '@tessera/contracts';
import { AppError } from '@tessera/errors';
import type { MethodPolicy } from '@tessera/auth';
import { INGEST_POLICY, ingestTenantOf } from './ingest.policy';

describe('INGEST_POLICY', () => {
  it('has a policy for every RPC of IngestService', () => {
    const table: Readonly<Record<string, MethodPolicy>> = INGEST_POLICY;
    expect(Object.keys(analyticsV1.IngestServiceService).filter((rpc) => table[rpc] === undefined)).toEqual([]);
  });
});

describe('ingestTenantOf', () => {
  const principal = { subject: 's', kind: 'user' as const, roles: ['ingest' as const], scopes: new Set(['events:write' as const]) };

  it("is the credential's tenant", () => {
    expect(ingestTenantOf({ ...principal, tenantId: 'acme' })).toBe('acme');
  });

  it('refuses a credential bound to no tenant (PERMISSION_DENIED AUTH.TENANT_FORBIDDEN)', () => {
    const error = (() => {
      try {
        ingestTenantOf(principal);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('AUTH.TENANT_FORBIDDEN');
  });
});
