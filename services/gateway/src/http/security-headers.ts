import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

/** The gateway's helmet settings: the console's page and assets are same-origin, so helmet's default CSP ('self') fits them. */
export const HELMET_OPTIONS: Readonly<HelmetOptions> = { crossOriginResourcePolicy: { policy: 'same-origin' } };

/**
 * The headers helmet sets for `options`, computed once by running helmet's own middleware against a recording response.
 * helmet's headers do not depend on the request, and `@fastify/helmet` rebuilt the middleware (parsing every CSP
 * directive) on each request: ~2.5% of the gateway's CPU on the read path (issue #12). Same library, same headers.
 */
export function securityHeadersOf(options: Readonly<HelmetOptions> = HELMET_OPTIONS): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
    getHeader: (name: string) => headers[name.toLowerCase()],
  };
  let failure: unknown;
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => {
    failure = err;
  });
  if (failure) throw failure instanceof Error ? failure : new Error(String(failure));
  return Object.freeze(headers);
}

/** Sends helmet's headers (precomputed) on every response, routes and Fastify's own 404s alike. */
export function registerSecurityHeaders(app: FastifyInstance, options: Readonly<HelmetOptions> = HELMET_OPTIONS): void {
  const headers = securityHeadersOf(options);
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    done();
  });
}
