import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Server } from 'node:http';
import type { FastifyHttpOptions } from 'fastify';
import { AppModule } from '../app.module';
import type { Authenticators } from '../auth/auth.guard';
import type { GatewayConfig } from '../config';
import { setupDocs } from '../openapi/openapi.setup';
import { REQUEST_ID_HEADER, requestIdOf } from './request-id';
import { clientErrorHandler, frameworkErrorHandler } from './framework-errors';
import { labelHttpRoutes } from './http-route.metrics';
import { registerStrictJsonParser, registerStrictQuery } from './strict-utf8';
import { registerSecurityHeaders } from './security-headers';

/** Headers a browser client may send cross-origin, and those it may read back. */
const CORS_REQUEST_HEADERS = ['authorization', 'content-type', 'idempotency-key', 'x-api-key', 'x-request-id', 'traceparent', 'tracestate'];
const CORS_EXPOSED_HEADERS = [
  'x-request-id',
  'retry-after',
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
  'www-authenticate',
];

/**
 * Fastify server options from config: body limit (413 beyond), request/header/keep-alive/idle timeouts (slowloris),
 * request ids, proxy trust. Node checks request and header timeouts only every `connectionsCheckingInterval`
 * (30 s by default), so the interval follows the smaller timeout or a short limit would fire up to 30 s late.
 */
export function fastifyOptionsOf(config: GatewayConfig): FastifyHttpOptions<Server> {
  const smallest = Math.min(config.GATEWAY_REQUEST_TIMEOUT_MS, config.GATEWAY_HEADERS_TIMEOUT_MS);
  return {
    bodyLimit: config.GATEWAY_BODY_LIMIT_BYTES,
    requestTimeout: config.GATEWAY_REQUEST_TIMEOUT_MS,
    keepAliveTimeout: config.GATEWAY_KEEP_ALIVE_TIMEOUT_MS,
    connectionTimeout: config.GATEWAY_CONNECTION_TIMEOUT_MS,
    http: {
      headersTimeout: config.GATEWAY_HEADERS_TIMEOUT_MS,
      requestTimeout: config.GATEWAY_REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(smallest / 4))),
    },
    // Fastify would take any inbound X-Request-Id verbatim; requestIdOf keeps only sane ones.
    requestIdHeader: false,
    genReqId: requestIdOf,
    trustProxy: config.GATEWAY_TRUST_PROXY,
    // Idle keep-alive sockets close at shutdown; sockets with a request in flight finish it (see configureApp).
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    // Errors raised before a route runs (bad URL, over-long path segment; an incomplete, oversize or unparsable
    // request) leave as problem+json too, not Fastify's own JSON (issue #13).
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
  };
}

/**
 * Everything the HTTP edge needs beyond routes and guards: security headers, CORS allow-list, request-id echo and
 * the bounded drain at shutdown. Called by main.ts and by the tests, so both run the same edge.
 */
export async function configureApp(app: NestFastifyApplication, config: GatewayConfig): Promise<void> {
  // helmet's headers, computed once (security-headers.ts): @fastify/helmet rebuilt them on every request.
  registerSecurityHeaders(app.getHttpAdapter().getInstance());
  // JSON bodies and query strings must be UTF-8 text, or 400 HTTP.INVALID_UTF8 (strict-utf8.ts).
  registerStrictJsonParser(app.getHttpAdapter().getInstance());
  registerStrictQuery(app.getHttpAdapter().getInstance());
  app.enableCors({
    // An origin off the list gets no Access-Control-Allow-Origin, so the browser refuses the response.
    origin: config.GATEWAY_CORS_ORIGINS.length > 0 ? config.GATEWAY_CORS_ORIGINS : false,
    methods: ['GET', 'POST'],
    allowedHeaders: CORS_REQUEST_HEADERS,
    exposedHeaders: CORS_EXPOSED_HEADERS,
    credentials: false,
    maxAge: 600,
  });

  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', async (request, reply) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
  });
  labelHttpRoutes(fastify);
  // Fastify's close stops accepting, answers requests on busy keep-alive sockets with 503 and waits for in-flight
  // ones; a request still running after the grace period (a stuck upstream, a live stream) is cut so shutdown ends.
  fastify.addHook('preClose', async () => {
    setTimeout(() => fastify.server.closeAllConnections(), config.GATEWAY_SHUTDOWN_GRACE_MS).unref();
  });
  // GET /openapi.json and the swagger-ui at /docs; throws (no boot) when a route is undocumented.
  setupDocs(app);
}

/** The gateway app, configured but not listening (`app.listen` in main.ts; `app.init()` or `listen(0)` in tests). */
export async function createGatewayApp(
  config: GatewayConfig,
  auth: Authenticators,
  options: { logger?: false | ('error' | 'warn' | 'log' | 'debug' | 'verbose')[] } = {},
): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config, auth),
    new FastifyAdapter(fastifyOptionsOf(config)),
    {
      bufferLogs: false,
      logger: options.logger ?? ['error', 'warn'],
      // The JSON body parser is ours (registerStrictJsonParser in configureApp), not Nest's copy of Fastify's.
      bodyParser: false,
    },
  );
  await configureApp(app, config);
  return app;
}
