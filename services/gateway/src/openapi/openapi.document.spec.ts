import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { type INestApplication, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { CONTROLLERS } from '../app.module';
import { routeAuthOf } from '../auth/auth.decorators';
import { API_KEY_SCHEME, BEARER_SCHEME, buildOpenApiDocument, type OpenApiDocument, renderOpenApiDocument } from './openapi.document';
import { ROUTES } from './openapi.routes';
import { previewApp } from './openapi.setup';
import { OPENAPI_SNAPSHOT } from './write-openapi';

interface Operation {
  operationId: string;
  security: Record<string, string[]>[];
  parameters?: { name: string; in: string; required: boolean }[];
  responses: Record<string, { content?: Record<string, unknown> }>;
}

/** "METHOD /path/{param}" -> [controller, handler] for every handler, read straight from Nest's decorator metadata. */
function registeredRoutes(): Map<string, [(typeof CONTROLLERS)[number], string]> {
  const out = new Map<string, [(typeof CONTROLLERS)[number], string]>();
  for (const controller of CONTROLLERS) {
    const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
    for (const name of Object.getOwnPropertyNames(controller.prototype)) {
      const handler: unknown = Reflect.get(controller.prototype as object, name);
      if (typeof handler !== 'function' || name === 'constructor') continue;
      const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      if (path === undefined || method === undefined) continue;
      const full = `/${[base, path].filter((p) => p !== '' && p !== '/').join('/')}`.replace(/:([A-Za-z]+)/g, '{$1}');
      out.set(`${RequestMethod[method]} ${full}`, [controller, name]);
    }
  }
  return out;
}

function operations(document: OpenApiDocument): Map<string, Operation> {
  return new Map(
    Object.entries(document.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => [`${method.toUpperCase()} ${path}`, op as unknown as Operation] as const),
    ),
  );
}

describe('buildOpenApiDocument', () => {
  let app: INestApplication;
  let document: OpenApiDocument;

  beforeAll(async () => {
    // Preview mode: modules and routes resolved, no provider instantiated (no gRPC/Kafka/key files).
    app = await previewApp();
    document = buildOpenApiDocument(app, CONTROLLERS);
  });
  afterAll(() => app.close());

  it('documents every route Nest registers, and only those', () => {
    const registered = [...registeredRoutes().keys()].sort();
    expect(registered).toContain('POST /v1/transfers');
    expect(registered).toContain('GET /v1/audit/verify');
    expect([...operations(document).keys()].sort()).toEqual(registered);
  });

  it('refuses to build when a Nest route is not in the table, or the table has a route Nest does not serve', () => {
    const withoutTransfers = ROUTES.filter((r) => !(r.method === 'post' && r.path === '/v1/transfers'));
    expect(() => buildOpenApiDocument(app, CONTROLLERS, withoutTransfers)).toThrow(
      /post \/v1\/transfers \(TransfersController\.\w+\) is not in openapi\.routes\.ts/,
    );
    const ghost = { ...ROUTES[0]!, path: '/v1/ghosts', operationId: 'getGhosts' };
    expect(() => buildOpenApiDocument(app, CONTROLLERS, [...ROUTES, ghost])).toThrow(
      /get \/v1\/ghosts is documented .* but Nest serves no such route/,
    );
  });

  it('is OpenAPI 3.1 with unique operation ids and resolvable schema references', () => {
    expect(document.openapi).toBe('3.1.0');
    const ids = [...operations(document).values()].map((o) => o.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    const components = document['components'] as { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
    const refs = [...JSON.stringify(document).matchAll(/"#\/components\/schemas\/([A-Za-z]+)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(Object.keys(components.schemas)).toContain(ref);
    expect(components.securitySchemes[BEARER_SCHEME]).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    expect(components.securitySchemes[API_KEY_SCHEME]).toMatchObject({ type: 'apiKey', in: 'header', name: 'X-Api-Key' });
  });

  it('documents the security the auth decorators enforce: none when public, else bearer (and API key where allowed) with the scopes, and 401/403', () => {
    const handlers = registeredRoutes();
    for (const [key, operation] of operations(document)) {
      const [controller, handler] = handlers.get(key)!;
      const auth = routeAuthOf(controller, handler);
      if (auth.public) {
        expect({ key, security: operation.security }).toEqual({ key, security: [] });
        expect(operation.responses['401']).toBeUndefined();
        continue;
      }
      expect({ key, bearer: operation.security[0] }).toEqual({ key, bearer: { [BEARER_SCHEME]: auth.scopes } });
      expect(operation.security.some((r) => API_KEY_SCHEME in r)).toBe(auth.apiKey);
      expect(Object.keys(operation.responses['401']?.content ?? {})).toEqual(['application/problem+json']);
      if (auth.scopes.length > 0) expect(operation.responses['403']).toBeDefined();
    }
    expect(operations(document).get('GET /openapi.json')?.security).toEqual([]);
  });

  it('requires Idempotency-Key on every mutating /v1 route and describes errors, 429 included, as problem+json', () => {
    for (const route of ROUTES.filter(
      (r) => r.method === 'post' && r.path.startsWith('/v1/') && r.path !== '/v1/pings' && r.path !== '/v1/events',
    )) {
      // (/v1/events needs no key: every event carries its own id, which the stream processor dedupes on.)
      const operation = document.paths[route.path]?.[route.method] as unknown as Operation;
      expect(operation.parameters).toContainEqual(expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: true }));
      expect(Object.keys(operation.responses['400']?.content ?? {})).toEqual(['application/problem+json']);
    }
    for (const operation of operations(document).values())
      expect(Object.keys(operation.responses['429']?.content ?? {})).toEqual(['application/problem+json']);
  });

  it('links each create to the operations on the created resource, by its id', () => {
    const links = (path: string) =>
      (
        document.paths[path]?.['post'] as unknown as {
          responses: Record<string, { links?: Record<string, { operationId: string; parameters: Record<string, string> }> }>;
        }
      ).responses['201']?.links;
    expect(Object.keys(links('/v1/accounts') ?? {}).sort()).toEqual(['closeAccount', 'freezeAccount', 'getAccount', 'getBalance']);
    expect(links('/v1/transfers')?.['reverseTransfer']).toEqual({
      operationId: 'reverseTransfer',
      parameters: { id: '$response.body#/id' },
    });
    expect(Object.keys(links('/v1/holds') ?? {}).sort()).toEqual(['captureHold', 'voidHold']);
    expect(links('/v1/transfers/batch')).toBeUndefined();
    const ids = new Set([...operations(document).values()].map((o) => o.operationId));
    for (const path of ['/v1/accounts', '/v1/transfers', '/v1/holds'])
      for (const link of Object.values(links(path) ?? {})) expect(ids).toContain(link.operationId);
  });

  it('describes a transfer amount as a positive decimal string, never a number', () => {
    const schemas = (
      document['components'] as { schemas: Record<string, { properties: Record<string, { properties: Record<string, unknown> }> }> }
    ).schemas;
    expect(schemas['CreateTransferRequest']?.properties['amount']?.properties['amountMinor']).toMatchObject({
      type: 'string',
      pattern: '^0*[1-9][0-9]{0,18}$',
    });
  });

  it('matches the committed services/gateway/openapi.json (regenerate: npx nx run gateway:openapi)', () => {
    expect(readFileSync(OPENAPI_SNAPSHOT, 'utf8')).toBe(renderOpenApiDocument(document));
  });
});
