import { authErrors } from './auth.errors';
import type { Role, Scope } from './roles';

/** Who is calling, as established from a verified JWT or API key. Never built from request bodies or headers set by peers. */
export interface Principal {
  /** JWT `sub`, or `apikey:<keyId>` for an API key. Recorded as the audit actor; four-eyes compares it. */
  subject: string;
  kind: 'user' | 'api-key';
  roles: readonly Role[];
  scopes: ReadonlySet<Scope>;
  /**
   * Set iff the principal may only touch its own customer's data: role `customer` and no staff role
   * (operator, compliance-officer, auditor). From claim `customer_id` (falls back to `sub`).
   * Equals Account.ownerId of the accounts it owns.
   */
  customerId?: string;
  /** Analytics tenant the principal is bound to (JWT claim `tenant`, or the API key's tenant). */
  tenantId?: string;
  /** JWT `jti` / API key id, for audit logs (never the token itself). */
  credentialId?: string;
}

export function hasScope(p: Principal, s: Scope): boolean {
  return p.scopes.has(s);
}

/** @throws AppError PERMISSION_DENIED `AUTH.SCOPE_REQUIRED` (metadata `scope`). */
export function requireScope(p: Principal, s: Scope): void {
  if (!p.scopes.has(s)) throw authErrors.scopeRequired(s);
}

/**
 * Checks the principal is bound to `tenantId`. A principal without a tenant is refused too: analytics data is
 * per tenant, and "no tenant" must not mean "every tenant".
 * @throws AppError PERMISSION_DENIED `AUTH.TENANT_FORBIDDEN`.
 */
export function requireTenant(p: Principal, tenantId: string): void {
  if (p.tenantId === undefined || p.tenantId !== tenantId) throw authErrors.tenantForbidden(tenantId);
}

/** @throws AppError PERMISSION_DENIED `AUTH.ROLE_REQUIRED`. */
export function requireRole(p: Principal, role: Role): void {
  if (!p.roles.includes(role)) throw authErrors.roleRequired(role);
}

/** A log-safe view of a principal (no secrets exist in it, but sets do not serialise). */
export function describePrincipal(p: Principal): Record<string, string> {
  return {
    subject: p.subject,
    kind: p.kind,
    roles: p.roles.join(','),
    scopes: [...p.scopes].join(' '),
    ...(p.customerId !== undefined ? { customerId: p.customerId } : {}),
    ...(p.tenantId !== undefined ? { tenantId: p.tenantId } : {}),
    ...(p.credentialId !== undefined ? { credentialId: p.credentialId } : {}),
  };
}
