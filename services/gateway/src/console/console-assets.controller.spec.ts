import { gatewayConfigSchema } from '../config';
import { consoleConfigOf } from './console-assets.controller';

describe('consoleConfigOf', () => {
  it("carries no credential in any environment (issue #13: it handed out the demo tenants' API keys)", () => {
    for (const env of [{}, { NODE_ENV: 'production' }, { GATEWAY_CONSOLE_TENANT: 'acme' }]) {
      const view = consoleConfigOf(gatewayConfigSchema.parse(env));
      expect(Object.keys(view).sort()).toEqual(['paymentsTenantId', 'refreshMs', 'tenantId', 'traceUrlTemplate']);
    }
  });

  it('passes the trace URL template through and rejects one without {traceId}', () => {
    const config = gatewayConfigSchema.parse({ TESSERA_TRACE_URL: 'http://localhost:16686/trace/{traceId}' });
    expect(consoleConfigOf(config).traceUrlTemplate).toBe('http://localhost:16686/trace/{traceId}');
    expect(consoleConfigOf(gatewayConfigSchema.parse({})).traceUrlTemplate).toBeNull();
    expect(gatewayConfigSchema.safeParse({ TESSERA_TRACE_URL: 'http://localhost:16686/' }).success).toBe(false);
  });
});
