import 'reflect-metadata';
import { AllowApiKey, AllowQueryCredentials, Public, RequireScopes, routeAuthOf, TenantFromQuery } from './auth.decorators';

@RequireScopes('accounts:read')
class Sample {
  @RequireScopes('accounts:write')
  write(): void {}

  read(): void {}

  @Public()
  open(): void {}

  @AllowApiKey()
  @AllowQueryCredentials()
  @TenantFromQuery()
  @RequireScopes('insights:read', 'accounts:read')
  live(): void {}
}

@Public()
class AllPublic {
  get(): void {}
}

describe('routeAuthOf', () => {
  it('requires the class scopes and the method scopes, once each', () => {
    expect(routeAuthOf(Sample, 'write')).toEqual({ public: false, scopes: ['accounts:read', 'accounts:write'], apiKey: false, queryCredentials: false, tenantQuery: undefined });
    expect(routeAuthOf(Sample, 'read').scopes).toEqual(['accounts:read']);
    expect(routeAuthOf(Sample, 'live')).toEqual({ public: false, scopes: ['accounts:read', 'insights:read'], apiKey: true, queryCredentials: true, tenantQuery: 'tenantId' });
  });

  it('reads Public from the method or the class', () => {
    expect(routeAuthOf(Sample, 'open').public).toBe(true);
    expect(routeAuthOf(AllPublic, 'get').public).toBe(true);
  });

  it('throws for a name that is not a method', () => {
    expect(() => routeAuthOf(Sample, 'nope')).toThrow('Sample.nope is not a route handler');
  });
});
