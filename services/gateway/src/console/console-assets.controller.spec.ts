import { gatewayConfigSchema } from '../config';
import { consoleConfigOf } from './console-assets.controller';

describe('consoleConfigOf', () => {
  it('hands out the demo key only in development without configured keys', () => {
    expect(consoleConfigOf(gatewayConfigSchema.parse({})).apiKey).toBe('demo-key');
    expect(consoleConfigOf(gatewayConfigSchema.parse({ NODE_ENV: 'production' })).apiKey).toBeNull();
    expect(consoleConfigOf(gatewayConfigSchema.parse({ INGEST_API_KEYS: 'demo:another-key-123' })).apiKey).toBeNull();
  });

  it('passes the trace URL template through and rejects one without {traceId}', () => {
    const config = gatewayConfigSchema.parse({ TESSERA_TRACE_URL: 'http://localhost:16686/trace/{traceId}' });
    expect(consoleConfigOf(config).traceUrlTemplate).toBe('http://localhost:16686/trace/{traceId}');
    expect(consoleConfigOf(gatewayConfigSchema.parse({})).traceUrlTemplate).toBeNull();
    expect(gatewayConfigSchema.safeParse({ TESSERA_TRACE_URL: 'http://localhost:16686/' }).success).toBe(false);
  });
});
