/**
 * The identity vocabulary shared by the gateway and every service: roles a person or machine holds, and the
 * scopes (permissions) each role may be granted. One table here, so the gateway's first check and the services'
 * re-check can never disagree about what a role means.
 */

/** Every role a token may carry (claim `roles`). Unknown role names in a token are ignored, never an error. */
export const ROLES = ['customer', 'operator', 'compliance-officer', 'auditor', 'ingest'] as const;
export type Role = (typeof ROLES)[number];

/** Every scope the platform checks. */
export const SCOPES = [
  'accounts:read',
  'accounts:write',
  'transfers:read',
  'transfers:write',
  'holds:write',
  'alerts:read',
  'alerts:decide',
  'audit:read',
  'events:write',
  'insights:read',
  'ops:read',
] as const;
export type Scope = (typeof SCOPES)[number];

/** What each role may be granted: a token's `scope` claim can only narrow this, never widen it. */
export const ROLE_SCOPES: Record<Role, readonly Scope[]> = {
  customer: ['accounts:read', 'transfers:read', 'transfers:write'],
  operator: ['accounts:read', 'accounts:write', 'transfers:read', 'transfers:write', 'holds:write', 'ops:read', 'alerts:read'],
  'compliance-officer': ['alerts:read', 'alerts:decide', 'audit:read', 'accounts:read', 'transfers:read'],
  auditor: ['audit:read', 'alerts:read', 'accounts:read', 'transfers:read'],
  ingest: ['events:write', 'insights:read'],
};

/** Roles that see every customer's data; holding one lifts the "own data only" restriction of `customer`. */
export const STAFF_ROLES: readonly Role[] = ['operator', 'compliance-officer', 'auditor'];

const ROLE_SET: ReadonlySet<string> = new Set(ROLES);
const SCOPE_SET: ReadonlySet<string> = new Set(SCOPES);

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && ROLE_SET.has(value);
}

export function isScope(value: unknown): value is Scope {
  return typeof value === 'string' && SCOPE_SET.has(value);
}

/** Union of the scopes of `roles`. */
export function scopesOfRoles(roles: readonly Role[]): Set<Scope> {
  const scopes = new Set<Scope>();
  for (const role of roles) for (const scope of ROLE_SCOPES[role]) scopes.add(scope);
  return scopes;
}

/**
 * Effective scopes of a token: the roles' scopes, narrowed to `requested` (the space-separated `scope` claim)
 * when the token has one. Unknown requested scopes are dropped.
 */
export function effectiveScopes(roles: readonly Role[], requested?: string): Set<Scope> {
  const granted = scopesOfRoles(roles);
  if (requested === undefined) return granted;
  const narrowed = new Set<Scope>();
  for (const s of requested.split(/\s+/)) if (isScope(s) && granted.has(s)) narrowed.add(s);
  return narrowed;
}
