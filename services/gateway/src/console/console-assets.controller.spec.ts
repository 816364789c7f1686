import { gatewayConfigSchema } from '../config';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { consoleConfigOf, devApiKeysOf } from './console-assets.controller';

describe('consoleConfigOf', () => {
  const devKeys = { demo: 'tsk_demodemodemo_x', payments: 'tsk_paypaypaypay_y' };

  it('hands out the dev issuer\'s demo keys only outside production', () => {
    expect(consoleConfigOf(gatewayConfigSchema.parse({}), devKeys)).toMatchObject({ apiKey: devKeys.demo, paymentsApiKey: devKeys.payments });
    expect(consoleConfigOf(gatewayConfigSchema.parse({ NODE_ENV: 'production' }), devKeys)).toMatchObject({ apiKey: null, paymentsApiKey: null });
    expect(consoleConfigOf(gatewayConfigSchema.parse({ GATEWAY_CONSOLE_TENANT: 'acme' }), devKeys).apiKey).toBeNull();
  });

  it('passes the trace URL template through and rejects one without {traceId}', () => {
    const config = gatewayConfigSchema.parse({ TESSERA_TRACE_URL: 'http://localhost:16686/trace/{traceId}' });
    expect(consoleConfigOf(config).traceUrlTemplate).toBe('http://localhost:16686/trace/{traceId}');
    expect(consoleConfigOf(gatewayConfigSchema.parse({})).traceUrlTemplate).toBeNull();
    expect(gatewayConfigSchema.safeParse({ TESSERA_TRACE_URL: 'http://localhost:16686/' }).success).toBe(false);
  });
});

describe('devApiKeysOf', () => {
  it('reads the plaintext demo keys per tenant, and nothing when the file is missing or malformed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'console-creds-'));
    const file = join(dir, 'dev-credentials.json');
    writeFileSync(file, JSON.stringify({ issuer: 'i', audience: 'a', apiKeys: { demo: { keyId: 'k', key: 'tsk_k_secret' }, bad: { keyId: 'x' } } }));
    expect(devApiKeysOf(file)).toEqual({ demo: 'tsk_k_secret' });
    expect(devApiKeysOf(join(dir, 'missing.json'))).toEqual({});
    writeFileSync(file, '{not json');
    expect(devApiKeysOf(file)).toEqual({});
  });
});
