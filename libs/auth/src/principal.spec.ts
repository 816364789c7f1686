import { AUTH_CODES } from './auth.errors';
import { hasScope, type Principal, requireRole, requireScope, requireTenant } from './principal';

const principal = (over: Partial<Principal> = {}): Principal => ({
  subject: 's',
  kind: 'user',
  roles: ['auditor'],
  scopes: new Set(['audit:read']),
  ...over,
});

describe('requireScope', () => {
  it('passes with the scope and refuses without it', () => {
    expect(hasScope(principal(), 'audit:read')).toBe(true);
    expect(() => requireScope(principal(), 'audit:read')).not.toThrow();
    expect(() => requireScope(principal(), 'alerts:decide')).toThrow(
      expect.objectContaining({ code: AUTH_CODES.scopeRequired, kind: 'PERMISSION_DENIED' }),
    );
  });
});

describe('requireTenant', () => {
  it('refuses a principal without a tenant: no tenant never means every tenant', () => {
    expect(() => requireTenant(principal(), 'demo')).toThrow(expect.objectContaining({ code: AUTH_CODES.tenantForbidden }));
    expect(() => requireTenant(principal({ tenantId: 'demo' }), 'demo')).not.toThrow();
  });
});

describe('requireRole', () => {
  it('refuses a principal without the role', () => {
    expect(() => requireRole(principal(), 'auditor')).not.toThrow();
    expect(() => requireRole(principal(), 'compliance-officer')).toThrow(
      expect.objectContaining({ code: AUTH_CODES.roleRequired, metadata: { role: 'compliance-officer' } }),
    );
  });
});
