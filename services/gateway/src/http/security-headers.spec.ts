import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify from 'fastify';
import helmet from 'helmet';
import { HELMET_OPTIONS, registerSecurityHeaders, securityHeadersOf } from './security-headers';

/** What helmet's middleware itself sets on a real response object for the same options. */
function helmetOnARealResponse(): Record<string, string> {
  const headers: Record<string, string> = { 'x-powered-by': 'Express' };
  const res = {
    setHeader: (n: string, v: string) => void (headers[n.toLowerCase()] = String(v)),
    removeHeader: (n: string) => void delete headers[n.toLowerCase()],
  };
  helmet(HELMET_OPTIONS)({} as IncomingMessage, res as unknown as ServerResponse, () => undefined);
  return headers;
}

describe(securityHeadersOf, () => {
  it("is exactly helmet's headers for the gateway's options (CSP, HSTS, frame, sniffing, same-origin resources)", () => {
    const headers = securityHeadersOf();
    expect(headers).toEqual(helmetOnARealResponse());
    expect(headers['content-security-policy']).toContain("default-src 'self'");
    expect(headers['cross-origin-resource-policy']).toBe('same-origin');
    expect(headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(headers).not.toHaveProperty('x-powered-by');
  });

  it('follows the options it is given', () => {
    expect(securityHeadersOf({ frameguard: { action: 'deny' } })['x-frame-options']).toBe('DENY');
    expect(securityHeadersOf({ contentSecurityPolicy: false })).not.toHaveProperty('content-security-policy');
  });
});

describe(registerSecurityHeaders, () => {
  it('sends them on routes and on 404s', async () => {
    const app = Fastify();
    registerSecurityHeaders(app);
    app.get('/x', async () => ({ ok: true }));
    const expected = securityHeadersOf();
    for (const url of ['/x', '/nowhere']) {
      const res = await app.inject({ url });
      for (const [name, value] of Object.entries(expected)) expect({ url, name, value: res.headers[name] }).toEqual({ url, name, value });
    }
    await app.close();
  });
});
