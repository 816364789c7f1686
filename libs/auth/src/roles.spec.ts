import { effectiveScopes, ROLE_SCOPES, scopesOfRoles } from './roles';

describe('effectiveScopes', () => {
  it('is the union of the roles scopes without a scope claim', () => {
    expect([...effectiveScopes(['customer', 'ingest'])].sort()).toEqual([...ROLE_SCOPES.customer, ...ROLE_SCOPES.ingest].sort());
  });

  it('narrows to the scope claim and never widens beyond the roles', () => {
    expect([...effectiveScopes(['customer'], 'accounts:read holds:write bogus')]).toEqual(['accounts:read']);
  });

  it('gives nothing to a principal without roles', () => {
    expect(scopesOfRoles([]).size).toBe(0);
    expect(effectiveScopes([], 'accounts:read').size).toBe(0);
  });
});
