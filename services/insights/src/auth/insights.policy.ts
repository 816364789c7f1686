import type { analyticsV1 } from '@tessera/contracts';
import type { PolicyTable } from '@tessera/auth';

/**
 * Tenant-scoped reads: insights:read (API key or JWT), and then the request's tenant_id must be the credential's
 * tenant (`requireTenant` in the handlers: a missing tenant_id is INVALID_ARGUMENT first, another tenant's is
 * PERMISSION_DENIED AUTH.TENANT_FORBIDDEN).
 */
export const INSIGHTS_POLICY: PolicyTable<typeof analyticsV1.InsightsServiceService> = {
  getAggregates: { scope: 'insights:read', apiKey: true },
  streamAggregates: { scope: 'insights:read', apiKey: true },
  getTopN: { scope: 'insights:read', apiKey: true },
};
