import type { INestApplication, Type } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { z } from 'zod';
import { routeAuthOf, type RouteAuth } from '../auth/auth.decorators';
import { API_KEY_HEADER } from '../events/event.dto';
import { IDEMPOTENCY_KEY_HEADER } from '../http/request-context';
import { problemSchema, ROUTES, type RouteSpec } from './openapi.routes';

type JsonSchema = Record<string, unknown>;
export type OpenApiDocument = Record<string, unknown> & {
  openapi: string;
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, JsonSchema>>;
};

/** Controllers Nest serves that are not part of the REST API (the console's static files). */
export const UNDOCUMENTED_CONTROLLERS: ReadonlySet<string> = new Set(['ConsoleAssetsController']);

export const BEARER_SCHEME = 'bearerAuth';
export const API_KEY_SCHEME = 'apiKeyHeader';
export const API_KEY_QUERY_SCHEME = 'apiKeyQuery';
/** The query parameter EventSource clients use instead of X-Api-Key (present in a route's zod query schema). */
const API_KEY_QUERY_PARAM = 'apiKey';

const PROBLEM_JSON = 'application/problem+json';
const STATUS_TEXT: Record<number, string> = {
  400: 'Invalid input (code HTTP.INVALID_REQUEST, HTTP.INVALID_QUERY, HTTP.INVALID_ID, HTTP.IDEMPOTENCY_KEY_REQUIRED, ...) with per-field errors',
  401: 'No valid credential (AUTH.TOKEN_REQUIRED, AUTH.TOKEN_EXPIRED, AUTH.TOKEN_NOT_YET_VALID, AUTH.TOKEN_INVALID, AUTH.UNKNOWN_KEY, AUTH.API_KEY_INVALID, ...); carries WWW-Authenticate: Bearer',
  403: 'Authenticated but not allowed (AUTH.SCOPE_REQUIRED, AUTH.TENANT_FORBIDDEN, AUTH.ROLE_REQUIRED, PAYMENTS.ACCOUNT_FORBIDDEN, ...)',
  404: "Not found, or not yours: a customer asking for another customer's account or transfer gets 404 (e.g. PAYMENTS.ACCOUNT_NOT_FOUND)",
  409: 'Conflict: a concurrent change (ABORTED, e.g. a stale expectedVersion) or a duplicate',
  413: 'Request body exceeds the size limit (HTTP.PAYLOAD_TOO_LARGE)',
  415: 'Send application/json (HTTP.UNSUPPORTED_MEDIA_TYPE)',
  422: 'The current state forbids it (e.g. PAYMENTS.INSUFFICIENT_FUNDS, PAYMENTS.ACCOUNT_FROZEN, PAYMENTS.IDEMPOTENCY_KEY_REUSED with a different request)',
  429: 'Too many requests for this client and route class (HTTP.RATE_LIMITED); retry after Retry-After seconds',
  500: 'Unexpected error (details are logged, never returned)',
  503: 'An upstream service is unavailable (e.g. PAYMENTS.COMPLIANCE_UNAVAILABLE: fail-closed; INGEST.KAFKA_UNAVAILABLE or INGEST.OVERLOADED with a Retry-After header: nothing was stored)',
  504: 'An upstream service did not answer within the deadline',
};
const RETRY_AFTER = { 'Retry-After': { description: 'Seconds until a request may succeed', schema: { type: 'integer', minimum: 0 } } };

/** JSON Schema 2020-12 (the dialect of OpenAPI 3.1) of a zod schema; requests are described by what they accept. */
function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

function ref(name: string): JsonSchema {
  return { $ref: `#/components/schemas/${name}` };
}

function queryOf(route: RouteSpec): { properties?: Record<string, JsonSchema>; required?: string[] } | undefined {
  return route.query ? (jsonSchemaOf(route.query, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] }) : undefined;
}

function parametersOf(route: RouteSpec): JsonSchema[] {
  const out: JsonSchema[] = [];
  for (const [name, schema] of Object.entries(route.params ?? {})) {
    out.push({ name, in: 'path', required: true, schema: jsonSchemaOf(schema, 'input') });
  }
  const query = queryOf(route);
  for (const [name, schema] of Object.entries(query?.properties ?? {})) {
    out.push({ name, in: 'query', required: query?.required?.includes(name) ?? false, schema });
  }
  if (route.idempotent) {
    out.push({
      name: IDEMPOTENCY_KEY_HEADER,
      in: 'header',
      required: true,
      description:
        'Makes retries safe: the same key with the same request returns the first result; with a different request it is a 422 (IDEMPOTENCY_KEY_REUSED)',
      schema: { type: 'string', minLength: 8, maxLength: 128 },
    });
  }
  return out;
}

/** Who may call: a bearer JWT with the scopes, or (where allowed) the tenant's API key; `[]` means no credential. */
function securityOf(route: RouteSpec, auth: RouteAuth): JsonSchema[] {
  if (auth.public) return [];
  // OpenAPI 3.1 lets a non-OAuth2 requirement list role names; we list the scopes the credential must carry.
  const requirements: JsonSchema[] = [{ [BEARER_SCHEME]: auth.scopes }];
  if (auth.apiKey) {
    requirements.push({ [API_KEY_SCHEME]: auth.scopes });
    if (queryOf(route)?.properties?.[API_KEY_QUERY_PARAM]) requirements.push({ [API_KEY_QUERY_SCHEME]: auth.scopes });
  }
  return requirements;
}

function describeAuth(auth: RouteAuth): string {
  if (auth.public) return 'Public: no credential needed.';
  const credential = auth.apiKey ? `a bearer JWT or the tenant's ${API_KEY_HEADER}` : 'a bearer JWT';
  const scopes = auth.scopes.length > 0 ? ` with scope ${auth.scopes.map((s) => `\`${s}\``).join(' and ')}` : '';
  return `Requires ${credential}${scopes}.`;
}

/**
 * OpenAPI links from a create (201 with an `id`) to the operations on `<its path>/{id}...`, so clients and
 * schemathesis's stateful phase can follow a created resource (open an account, then read, freeze, close it).
 */
function linksOf(route: RouteSpec, routes: RouteSpec[]): Record<string, JsonSchema> | undefined {
  const body = route.response.body.schema;
  if (route.method !== 'post' || route.response.status !== 201 || !(body instanceof z.ZodObject) || !('id' in body.shape)) return undefined;
  const targets = routes.filter((r) => r.path.startsWith(`${route.path}/{id}`));
  if (targets.length === 0) return undefined;
  return Object.fromEntries(targets.map((t) => [t.operationId, { operationId: t.operationId, parameters: { id: '$response.body#/id' } }]));
}

function operationOf(
  route: RouteSpec,
  auth: RouteAuth,
  schemas: Record<string, JsonSchema>,
  links?: Record<string, JsonSchema>,
): JsonSchema {
  const register = (name: string, schema: z.ZodType, io: 'input' | 'output'): JsonSchema => {
    schemas[name] ??= jsonSchemaOf(schema, io);
    return ref(name);
  };
  const takesInput = route.body !== undefined || route.query !== undefined || route.params !== undefined || route.idempotent === true;
  const authErrors = auth.public ? [] : [401, ...(auth.scopes.length > 0 || auth.apiKey ? [403] : [])];
  const errorStatuses = [
    ...new Set([...(takesInput ? [400] : []), ...(route.body ? [413] : []), ...authErrors, ...route.errors, 429, 500]),
  ].sort((a, b) => a - b);
  const responses: Record<string, JsonSchema> = {
    [String(route.response.status)]: {
      description: route.response.description,
      ...(links ? { links } : {}),
      content: {
        [route.response.contentType ?? 'application/json']: {
          schema: register(route.response.body.name, route.response.body.schema, 'output'),
        },
      },
    },
  };
  for (const status of errorStatuses) {
    responses[String(status)] = {
      description: STATUS_TEXT[status] ?? 'Error',
      ...(status === 429 || status === 503 ? { headers: RETRY_AFTER } : {}),
      content: { [PROBLEM_JSON]: { schema: ref('Problem') } },
    };
  }
  const operation: JsonSchema = {
    operationId: route.operationId,
    summary: route.summary,
    description: describeAuth(auth),
    tags: [route.tag],
    security: securityOf(route, auth),
  };
  if (auth.scopes.length > 0) operation['x-required-scopes'] = auth.scopes;
  const parameters = parametersOf(route);
  if (parameters.length > 0) operation['parameters'] = parameters;
  if (route.body) {
    operation['requestBody'] = {
      required: true,
      content: { 'application/json': { schema: register(route.body.name, route.body.schema, 'input') } },
    };
  }
  operation['responses'] = responses;
  return operation;
}

/** One route as @nestjs/swagger found it in Nest's metadata. */
export interface ScannedRoute {
  method: string;
  path: string;
  controller: string;
  handler: string;
}

/**
 * Every route Nest registers, read by @nestjs/swagger from the same metadata Nest routes by. Only paths,
 * methods and handlers are kept: what it infers about bodies depends on emitted design types, which the zod
 * table describes exactly instead.
 */
export function scanRoutes(app: INestApplication): ScannedRoute[] {
  const scanned = SwaggerModule.createDocument(app, new DocumentBuilder().setOpenAPIVersion('3.1.0').build(), {
    operationIdFactory: (controller, handler) => `${controller}#${handler}`,
    autoTagControllers: false,
  });
  const out: ScannedRoute[] = [];
  for (const [path, item] of Object.entries(scanned.paths)) {
    for (const [method, operation] of Object.entries(item as Record<string, { operationId?: string }>)) {
      const [controller = '', handler = ''] = (operation.operationId ?? '').split('#');
      out.push({ method, path, controller, handler });
    }
  }
  return out;
}

/**
 * The gateway's OpenAPI 3.1 document: the routes @nestjs/swagger scans from the running application, security
 * from the auth decorators (`routeAuthOf`, the rules the guard enforces), schemas from the zod table. Throws when
 * Nest and the table disagree, so an undocumented route cannot ship.
 */
export function buildOpenApiDocument(app: INestApplication, controllers: readonly Type[], routes: RouteSpec[] = ROUTES): OpenApiDocument {
  const byName = new Map(controllers.map((c) => [c.name, c]));
  const table = new Map(routes.map((r) => [`${r.method} ${r.path}`, r]));
  const problems: string[] = [];
  const schemas: Record<string, JsonSchema> = { Problem: jsonSchemaOf(problemSchema, 'output') };
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const seen = new Set<string>();
  for (const scanned of scanRoutes(app)) {
    if (UNDOCUMENTED_CONTROLLERS.has(scanned.controller)) continue;
    const key = `${scanned.method} ${scanned.path}`;
    const route = table.get(key);
    const controller = byName.get(scanned.controller);
    if (!controller) {
      problems.push(`${key} is served by ${scanned.controller}, which is neither in CONTROLLERS nor UNDOCUMENTED_CONTROLLERS`);
      continue;
    }
    if (!route) {
      problems.push(`${key} (${scanned.controller}.${scanned.handler}) is not in openapi.routes.ts`);
      continue;
    }
    const templateParams = [...scanned.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
    const tableParams = Object.keys(route.params ?? {}).sort();
    if (templateParams.join() !== tableParams.join())
      problems.push(`${key}: path parameters ${templateParams.join()} but the table documents ${tableParams.join() || 'none'}`);
    seen.add(key);
    (paths[scanned.path] ??= {})[scanned.method] = operationOf(
      route,
      routeAuthOf(controller, scanned.handler),
      schemas,
      linksOf(route, routes),
    );
  }
  for (const key of table.keys())
    if (!seen.has(key)) problems.push(`${key} is documented in openapi.routes.ts but Nest serves no such route`);
  if (problems.length > 0) throw new Error(`OpenAPI document does not match the Nest routes:\n  ${problems.join('\n  ')}`);

  // Table order, so the document reads by feature and the snapshot diff stays small.
  const ordered = Object.fromEntries(
    routes
      .map((r) => r.path)
      .filter((p, i, all) => all.indexOf(p) === i)
      .map((p) => [p, paths[p] ?? {}]),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tessera gateway',
      version: '1.0.0',
      description:
        'REST edge of Tessera. Send `Authorization: Bearer <JWT>` (issuer and audience checked against the JWKS; ' +
        "roles and scopes in the token) or, on analytics routes, the tenant's `X-Api-Key`. Amounts are integer minor " +
        'units as decimal strings; every error is application/problem+json (RFC 9457) with a stable `code`.',
    },
    servers: [{ url: '/', description: 'This gateway' }],
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    security: [{ [BEARER_SCHEME]: [] }],
    paths: ordered,
    components: {
      securitySchemes: {
        [BEARER_SCHEME]: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'RS256/ES256 JWT from the identity provider (dev: `npm run auth -- token`)',
        },
        [API_KEY_SCHEME]: {
          type: 'apiKey',
          in: 'header',
          name: API_KEY_HEADER,
          description: 'Per-tenant API key `tsk_<id>_<secret>` (dev: `npm run auth -- apikey create`)',
        },
        [API_KEY_QUERY_SCHEME]: {
          type: 'apiKey',
          in: 'query',
          name: API_KEY_QUERY_PARAM,
          description: 'The same key as a query parameter, for EventSource clients that cannot send headers',
        },
      },
      schemas: Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b))),
    },
  };
}

/** The committed snapshot's exact text (stable key order, trailing newline). */
export function renderOpenApiDocument(document: OpenApiDocument): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
