import { z } from 'zod';
import { IDEMPOTENCY_KEY_HEADER, PRINCIPAL_HEADER } from '../http/request-context';
import { API_KEY_HEADER } from '../events/event.dto';
import { problemSchema, ROUTES, type RouteSpec } from './openapi.routes';

type JsonSchema = Record<string, unknown>;
export type OpenApiDocument = Record<string, unknown> & { openapi: string; paths: Record<string, Record<string, unknown>> };

const PROBLEM_JSON = 'application/problem+json';
const STATUS_TEXT: Record<number, string> = {
  400: 'Invalid input (code HTTP.INVALID_REQUEST, HTTP.INVALID_QUERY, HTTP.INVALID_ID, HTTP.IDEMPOTENCY_KEY_REQUIRED, ...) with per-field errors',
  401: 'Missing or unknown API key (AUTH.API_KEY_REQUIRED, AUTH.API_KEY_INVALID)',
  403: 'The API key belongs to another tenant (AUTH.TENANT_FORBIDDEN)',
  404: 'Not found (e.g. PAYMENTS.ACCOUNT_NOT_FOUND)',
  409: 'Conflict: a concurrent change (ABORTED, e.g. a stale expectedVersion) or a duplicate',
  413: 'Request body exceeds the size limit (HTTP.PAYLOAD_TOO_LARGE)',
  415: 'Send application/json (HTTP.UNSUPPORTED_MEDIA_TYPE)',
  422: 'The current state forbids it (e.g. PAYMENTS.INSUFFICIENT_FUNDS, PAYMENTS.ACCOUNT_FROZEN, PAYMENTS.IDEMPOTENCY_KEY_REUSED with a different request)',
  429: 'Too many requests',
  500: 'Unexpected error (details are logged, never returned)',
  503: 'An upstream service is unavailable (e.g. PAYMENTS.COMPLIANCE_UNAVAILABLE: fail-closed; INGEST.KAFKA_UNAVAILABLE or INGEST.OVERLOADED with a Retry-After header: nothing was stored)',
  504: 'An upstream service did not answer within the deadline',
};

/** JSON Schema 2020-12 (the dialect of OpenAPI 3.1) of a zod schema; requests are described by what they accept. */
function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

function ref(name: string): JsonSchema {
  return { $ref: `#/components/schemas/${name}` };
}

function parametersOf(route: RouteSpec): JsonSchema[] {
  const out: JsonSchema[] = [];
  for (const [name, schema] of Object.entries(route.params ?? {})) {
    out.push({ name, in: 'path', required: true, schema: jsonSchemaOf(schema, 'input') });
  }
  const query = route.query ? (jsonSchemaOf(route.query, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] }) : undefined;
  for (const [name, schema] of Object.entries(query?.properties ?? {})) {
    out.push({ name, in: 'query', required: query?.required?.includes(name) ?? false, schema });
  }
  if (route.idempotent) {
    out.push({
      name: IDEMPOTENCY_KEY_HEADER,
      in: 'header',
      required: true,
      description: 'Makes retries safe: the same key with the same request returns the first result; with a different request it is a 422 (IDEMPOTENCY_KEY_REUSED)',
      schema: { type: 'string', minLength: 8, maxLength: 128 },
    });
  }
  if (route.apiKey) {
    out.push({
      name: API_KEY_HEADER,
      in: 'header',
      required: !route.apiKeyInQuery,
      description: route.apiKeyInQuery
        ? "The tenant's API key (or the apiKey query parameter); 401 when missing or unknown, 403 for another tenant's data"
        : "The tenant's API key; forwarded as gRPC metadata x-api-key and checked by the service (401 when missing or unknown)",
      schema: { type: 'string', minLength: 8, maxLength: 256 },
    });
  }
  if (route.principal) {
    out.push({
      name: PRINCIPAL_HEADER,
      in: 'header',
      required: false,
      description: 'PLACEHOLDER until real authentication (issue #5): the acting principal, forwarded unverified as gRPC metadata x-tessera-principal and recorded as the audit actor',
      schema: { type: 'string', pattern: '^[A-Za-z0-9._@:-]{1,128}$' },
    });
  }
  return out;
}

function operationOf(route: RouteSpec, schemas: Record<string, JsonSchema>): JsonSchema {
  const register = (name: string, schema: z.ZodType, io: 'input' | 'output'): JsonSchema => {
    schemas[name] ??= jsonSchemaOf(schema, io);
    return ref(name);
  };
  const takesInput = route.body !== undefined || route.query !== undefined || route.params !== undefined || route.idempotent === true;
  const errorStatuses = [...new Set([...(takesInput || route.principal ? [400] : []), ...route.errors, 500])].sort((a, b) => a - b);
  const responses: Record<string, JsonSchema> = {
    [String(route.response.status)]: {
      description: route.response.description,
      content: { [route.response.contentType ?? 'application/json']: { schema: register(route.response.body.name, route.response.body.schema, 'output') } },
    },
  };
  for (const status of errorStatuses) {
    responses[String(status)] = { description: STATUS_TEXT[status] ?? 'Error', content: { [PROBLEM_JSON]: { schema: ref('Problem') } } };
  }
  const operation: JsonSchema = { operationId: route.operationId, summary: route.summary, tags: [route.tag] };
  const parameters = parametersOf(route);
  if (parameters.length > 0) operation['parameters'] = parameters;
  if (route.body) {
    operation['requestBody'] = { required: true, content: { 'application/json': { schema: register(route.body.name, route.body.schema, 'input') } } };
  }
  operation['responses'] = responses;
  return operation;
}

/** The gateway's OpenAPI 3.1 document, derived from the route table and the zod schemas the routes validate with. */
export function buildOpenApiDocument(routes: RouteSpec[] = ROUTES): OpenApiDocument {
  const schemas: Record<string, JsonSchema> = { Problem: jsonSchemaOf(problemSchema, 'output') };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = (paths[route.path] ??= {});
    path[route.method] = operationOf(route, schemas);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tessera gateway',
      version: '1.0.0',
      description:
        'REST edge of Tessera. Amounts are integer minor units as decimal strings; every error is application/problem+json (RFC 9457) with a stable `code`.',
    },
    servers: [{ url: 'http://127.0.0.1:8080' }],
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: { schemas: Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b))) },
  };
}

/** The committed snapshot's exact text (stable key order, trailing newline). */
export function renderOpenApiDocument(document: OpenApiDocument = buildOpenApiDocument()): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
