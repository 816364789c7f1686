import 'reflect-metadata';
import { AllowApiKey, AllowQueryCredentials, Public, RequireScopes, routeAuthOf, TenantFromQuery } from './auth.decorators';

@RequireScopes('accounts:read')
class Sample {
  @RequireScopes('accounts:write')
  write(): string {
    return '';
  }

  read(): string {
    return '';
  }

  @Public()
  open(): string {
    return '';
  }

  @AllowApiKey()
  @AllowQueryCredentials()
  @TenantFromQuery()
  @RequireScopes('insights:read', 'accounts:read')
  live(): string {
    return '';
  }
}

@Public()
class AllPublic {
  get(): string {
    return '';
  }
}

describe('routeAuthOf', () => {
  it('requires the class scopes and the method scopes, once each', () => {
    expect(routeAuthOf(Sample, 'write')).toEqual({
      public: false,
      scopes: ['accounts:read', 'accounts:write'],
      apiKey: false,
      queryCredentials: false,
      tenantQuery: undefined,
    });
    expect(routeAuthOf(Sample, 'read').scopes).toEqual(['accounts:read']);
    expect(routeAuthOf(Sample, 'live')).toEqual({
      public: false,
      scopes: ['accounts:read', 'insights:read'],
      apiKey: true,
      queryCredentials: true,
      tenantQuery: 'tenantId',
    });
  });

  it('reads Public from the method or the class', () => {
    expect(routeAuthOf(Sample, 'open').public).toBe(true);
    expect(routeAuthOf(AllPublic, 'get').public).toBe(true);
  });

  it('throws for a name that is not a method', () => {
    expect(() => routeAuthOf(Sample, 'nope')).toThrow('Sample.nope is not a route handler');
  });
});
