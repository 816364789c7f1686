import type { analyticsV1 } from '@tessera/contracts';
import { AppError } from '@tessera/errors';
import { type Principal, type PolicyTable } from '@tessera/auth';

/** Machine ingest: a tenant's API key, or a JWT with events:write and a `tenant` claim. */
export const INGEST_POLICY: PolicyTable<typeof analyticsV1.IngestServiceService> = {
  ingestBatch: { scope: 'events:write', apiKey: true },
  ingestStream: { scope: 'events:write', apiKey: true },
};

/**
 * The tenant events are ingested for: always the credential's, never one named in the request (events naming
 * another tenant are rejected one by one by the validator).
 * @throws AppError PERMISSION_DENIED `AUTH.TENANT_FORBIDDEN` for a credential bound to no tenant.
 */
export function ingestTenantOf(principal: Principal): string {
  if (principal.tenantId === undefined || principal.tenantId === '') {
    throw new AppError({
      code: 'AUTH.TENANT_FORBIDDEN',
      kind: 'PERMISSION_DENIED',
      message: 'The credential is not bound to a tenant (JWT claim `tenant`)',
    });
  }
  return principal.tenantId;
}
