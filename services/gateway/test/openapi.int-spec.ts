/**
 * The served OpenAPI document against the running gateway (real Nest + Fastify on an ephemeral port, real HTTP):
 * every route Fastify registers is documented, every documented operation is routed (answers something other
 * than HTTP.ROUTE_NOT_FOUND), the served document is the committed snapshot, and the swagger-ui docs page works.
 * Upstream gRPC addresses point at a closed port: routing, not upstream behaviour, is under test here.
 */
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createGatewayApp } from '../src/http/app-setup';
import type { OpenApiDocument } from '../src/openapi/openapi.document';
import { DOCS_PATH } from '../src/openapi/openapi.setup';
import { OPENAPI_SNAPSHOT } from '../src/openapi/write-openapi';
import { createTestAuth, type TestAuth, testConfig } from './support/edge';

jest.setTimeout(30_000);

const CLOSED = '127.0.0.1:9';
/** Served by Nest/Fastify but deliberately not REST resources: the console's static files and the docs UI itself. */
const NOT_API = [/^\/console(\/|$)/, new RegExp(`^/${DOCS_PATH}(\\/|$)`)];

let auth: TestAuth;
let app: NestFastifyApplication;
let base: string;
let served: OpenApiDocument;
/** "METHOD /path" of every route Fastify registered, as OpenAPI templates (`:id` -> `{id}`). */
const fastifyRoutes = new Set<string>();

beforeAll(async () => {
  auth = await createTestAuth();
  const config = testConfig({
    TRANSACTIONS_ADDR: CLOSED,
    COMPLIANCE_ADDR: CLOSED,
    INGEST_ADDR: CLOSED,
    INSIGHTS_ADDR: CLOSED,
    GATEWAY_GRPC_DEADLINE_MS: '500',
    GATEWAY_HEALTH_TIMEOUT_MS: '500',
  });
  // Built exactly as main.ts builds it (configureApp -> setupDocs); Nest adds its routes at listen, after this hook.
  app = await createGatewayApp(config, auth.auth, { logger: ['error'] });
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRoute', (route) => {
      // Fastify adds HEAD for every GET itself; OPTIONS would be CORS preflight.
      for (const method of [route.method].flat()) {
        if (method === 'HEAD' || method === 'OPTIONS') continue;
        fastifyRoutes.add(`${method} ${route.url.replace(/:([A-Za-z]+)/g, '{$1}')}`);
      }
    });
  await app.listen(0, '127.0.0.1');
  base = await app.getUrl();
  served = (await (await fetch(`${base}/openapi.json`)).json()) as OpenApiDocument;
});

afterAll(async () => {
  await app?.close();
  auth?.cleanup();
});

function documented(document: OpenApiDocument): string[] {
  return Object.entries(document.paths).flatMap(([path, operations]) => Object.keys(operations).map((m) => `${m.toUpperCase()} ${path}`));
}

describe('GET /openapi.json', () => {
  it('serves the committed snapshot, with no credential', async () => {
    const res = await fetch(`${base}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(served).toEqual(JSON.parse(readFileSync(OPENAPI_SNAPSHOT, 'utf8')));
    expect(served.openapi).toBe('3.1.0');
  });

  it('documents every route the running gateway registered', () => {
    const api = [...fastifyRoutes].filter((r) => !NOT_API.some((re) => re.test(r.split(' ')[1]!))).sort();
    expect(api).toContain('POST /v1/transfers');
    expect(documented(served).sort()).toEqual(api);
  });

  it('routes every documented operation (no HTTP.ROUTE_NOT_FOUND), without a credential never a 2xx on a protected one', async () => {
    for (const [path, operations] of Object.entries(served.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const url = `${base}${path.replace(/\{[^}]+\}/g, '0b6f1a4e-2c1d-4a55-9c3e-7d2a1f0e9b88')}`;
        if (
          (operation as { responses: Record<string, { content?: Record<string, unknown> }> }).responses['200']?.content?.[
            'text/event-stream'
          ]
        ) {
          // An SSE stream would stay open; its routing shows in the headers.
          const controller = new AbortController();
          const res = await fetch(url, { signal: controller.signal });
          controller.abort();
          expect({ route: `${method} ${path}`, status: res.status }).not.toEqual({ route: `${method} ${path}`, status: 404 });
          continue;
        }
        const res = await fetch(url, {
          method: method.toUpperCase(),
          ...(method === 'post' ? { body: '{}', headers: { 'content-type': 'application/json' } } : {}),
        });
        const body = (await res.text()).trim();
        expect({ route: `${method} ${path}`, body }).not.toEqual({
          route: `${method} ${path}`,
          body: expect.stringContaining('HTTP.ROUTE_NOT_FOUND'),
        });
        const isPublic = ((operation as { security?: unknown[] }).security ?? ['?']).length === 0;
        if (!isPublic) expect({ route: `${method} ${path}`, ok: res.ok }).toEqual({ route: `${method} ${path}`, ok: false });
      }
    }
  });

  it('answers an unknown route with HTTP.ROUTE_NOT_FOUND (so the check above can fail)', async () => {
    const res = await fetch(`${base}/v1/no-such-route`);
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('HTTP.ROUTE_NOT_FOUND');
  });
});

describe(`GET /${DOCS_PATH}`, () => {
  it('serves the swagger-ui page, its assets and the document it renders', async () => {
    const page = await fetch(`${base}/${DOCS_PATH}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('<title>Tessera gateway API</title>');
    const scripts = [...html.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]!);
    expect(scripts).toEqual(
      expect.arrayContaining([expect.stringContaining('swagger-ui-bundle.js'), expect.stringContaining('swagger-ui-init.js')]),
    );
    for (const script of scripts) {
      const res = await fetch(new URL(script, `${base}/${DOCS_PATH}`));
      expect({ script, status: res.status }).toEqual({ script, status: 200 });
      expect(res.headers.get('content-type')).toMatch(/javascript/);
    }
    const init = await (await fetch(`${base}/${DOCS_PATH}/swagger-ui-init.js`)).text();
    expect(init).toContain('"operationId": "createTransfer"');
  });
});
