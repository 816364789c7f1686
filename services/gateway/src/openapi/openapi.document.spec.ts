import { readFileSync } from 'node:fs';
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { CONTROLLERS } from '../app.module';
import { buildOpenApiDocument, renderOpenApiDocument } from './openapi.document';
import { ROUTES } from './openapi.routes';
import { OPENAPI_SNAPSHOT } from './write-openapi';

/** "METHOD /path/{param}" for every handler Nest registers, read from the same decorator metadata Nest routes by. */
function registeredRoutes(): string[] {
  const out: string[] = [];
  for (const controller of CONTROLLERS) {
    const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
    for (const name of Object.getOwnPropertyNames(controller.prototype)) {
      const handler: unknown = Reflect.get(controller.prototype as object, name);
      if (typeof handler !== 'function' || name === 'constructor') continue;
      const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      if (path === undefined || method === undefined) continue;
      const full = `/${[base, path].filter((p) => p !== '' && p !== '/').join('/')}`.replace(/:([A-Za-z]+)/g, '{$1}');
      out.push(`${RequestMethod[method]} ${full}`);
    }
  }
  return out.sort();
}

function documentedRoutes(): string[] {
  const document = buildOpenApiDocument();
  return Object.entries(document.paths)
    .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
}

describe('buildOpenApiDocument', () => {
  it('documents every route Nest registers, and only those', () => {
    const registered = registeredRoutes();
    expect(registered).toContain('POST /v1/transfers');
    expect(registered).toContain('GET /v1/audit/verify');
    expect(documentedRoutes()).toEqual(registered);
  });

  it('is OpenAPI 3.1 with unique operation ids and resolvable schema references', () => {
    const document = buildOpenApiDocument();
    expect(document.openapi).toBe('3.1.0');
    const ids = ROUTES.map((r) => r.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    const schemas = Object.keys((document['components'] as { schemas: Record<string, unknown> }).schemas);
    const refs = [...JSON.stringify(document).matchAll(/"#\/components\/schemas\/([A-Za-z]+)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(schemas).toContain(ref);
  });

  it('requires Idempotency-Key on every mutating /v1 route and describes errors as problem+json', () => {
    const document = buildOpenApiDocument();
    for (const route of ROUTES.filter((r) => r.method === 'post' && r.path.startsWith('/v1/') && r.path !== '/v1/pings' && r.path !== '/v1/events')) {
      // (/v1/events needs no key: every event carries its own id, which the stream processor dedupes on.)
      const operation = document.paths[route.path]?.[route.method] as { parameters: { name: string; required: boolean }[]; responses: Record<string, { content: Record<string, unknown> }> };
      expect(operation.parameters).toContainEqual(expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: true }));
      expect(Object.keys(operation.responses['400']?.content ?? {})).toEqual(['application/problem+json']);
    }
  });

  it('describes a transfer amount as a positive decimal string, never a number', () => {
    const schemas = (buildOpenApiDocument()['components'] as { schemas: Record<string, { properties: Record<string, { properties: Record<string, unknown> }> }> }).schemas;
    expect(schemas['CreateTransferRequest']?.properties['amount']?.properties['amountMinor']).toMatchObject({ type: 'string', pattern: '^0*[1-9][0-9]{0,18}$' });
  });
});

describe('services/gateway/openapi.json', () => {
  it('is current (regenerate: npx tsx services/gateway/src/openapi/write-openapi.ts)', () => {
    expect(readFileSync(OPENAPI_SNAPSHOT, 'utf8')).toBe(renderOpenApiDocument());
  });
});
