import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Principal, Scope } from '@tessera/auth';
import { AppError } from '@tessera/errors';
import type { FastifyRequest } from 'fastify';

/** Reflect-metadata keys; read by AuthGuard at request time and by `routeAuthOf` when the OpenAPI document is built. */
export const PUBLIC_KEY = 'tessera:auth:public';
export const SCOPES_KEY = 'tessera:auth:scopes';
export const API_KEY_KEY = 'tessera:auth:api-key';
export const QUERY_CREDENTIALS_KEY = 'tessera:auth:query-credentials';
export const TENANT_QUERY_KEY = 'tessera:auth:tenant-query';

/** No credential needed (health, openapi.json, docs UI, console assets). Everything else is authenticated by default. */
export const Public = (): ClassDecorator & MethodDecorator => SetMetadata(PUBLIC_KEY, true);

/** Every listed scope is required; on a class and a method both apply (the union is required). */
export const RequireScopes = (...scopes: Scope[]): ClassDecorator & MethodDecorator => SetMetadata(SCOPES_KEY, scopes);

/** The route also accepts an `X-Api-Key` (machine ingest and tenant analytics reads); a bearer token still works. */
export const AllowApiKey = (): ClassDecorator & MethodDecorator => SetMetadata(API_KEY_KEY, true);

/**
 * Credentials may also come as query parameters `access_token` (a JWT) and, with `AllowApiKey`, `apiKey`: only for
 * EventSource (which cannot send headers). URLs end up in logs and histories, so no other route accepts them.
 */
export const AllowQueryCredentials = (): MethodDecorator => SetMetadata(QUERY_CREDENTIALS_KEY, true);

/** The query parameter naming the analytics tenant; it must equal the principal's tenant (else 403 AUTH.TENANT_FORBIDDEN). */
export const TenantFromQuery = (param = 'tenantId'): ClassDecorator & MethodDecorator => SetMetadata(TENANT_QUERY_KEY, param);

/** How one route is protected; the same answer the guard acts on. */
export interface RouteAuth {
  public: boolean;
  scopes: Scope[];
  apiKey: boolean;
  /** `access_token` / `apiKey` query parameters accepted (EventSource routes). */
  queryCredentials: boolean;
  /** Query parameter that must name the principal's tenant, if any. */
  tenantQuery: string | undefined;
}

/** Metadata on the method wins over the class (`Public`, `AllowApiKey`); scopes of both are required. */
export function routeAuthOfTargets(controller: object, handler: object): RouteAuth {
  const read = <T>(key: string, target: object): T | undefined => Reflect.getMetadata(key, target) as T | undefined;
  const scopes = [...(read<Scope[]>(SCOPES_KEY, controller) ?? []), ...(read<Scope[]>(SCOPES_KEY, handler) ?? [])];
  return {
    public: read<boolean>(PUBLIC_KEY, handler) ?? read<boolean>(PUBLIC_KEY, controller) ?? false,
    scopes: [...new Set(scopes)],
    apiKey: read<boolean>(API_KEY_KEY, handler) ?? read<boolean>(API_KEY_KEY, controller) ?? false,
    queryCredentials: read<boolean>(QUERY_CREDENTIALS_KEY, handler) ?? false,
    tenantQuery: read<string>(TENANT_QUERY_KEY, handler) ?? read<string>(TENANT_QUERY_KEY, controller),
  };
}

/**
 * The auth rules of `controller.prototype[handler]`, e.g. `routeAuthOf(AccountsController, 'list')`.
 * The OpenAPI document reads this, so the documented security is the enforced one.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- a controller class, as Nest's Reflector takes it
export function routeAuthOf(controller: Function, handler: string): RouteAuth {
  const method = (controller.prototype as Record<string, unknown>)[handler];
  if (typeof method !== 'function') throw new Error(`${controller.name}.${handler} is not a route handler`);
  return routeAuthOfTargets(controller, method);
}

/** Where AuthGuard leaves the verified principal and the credential it came from on the request. */
export const PRINCIPAL_REQUEST_KEY = 'tesseraPrincipal';
export const CREDENTIAL_REQUEST_KEY = 'tesseraCredential';

/** The verified credential, kept only to forward it upstream unchanged (services re-verify it). */
export type Credential = { kind: 'bearer'; token: string } | { kind: 'api-key'; key: string };

export type AuthenticatedRequest = FastifyRequest & { [PRINCIPAL_REQUEST_KEY]?: Principal; [CREDENTIAL_REQUEST_KEY]?: Credential };

/** The principal AuthGuard verified; throws (a bug, not a client error) on a route marked `@Public()`. */
export function principalOf(request: FastifyRequest): Principal {
  const principal = (request as AuthenticatedRequest)[PRINCIPAL_REQUEST_KEY];
  if (!principal) throw new AppError({ code: 'GATEWAY.NO_PRINCIPAL', kind: 'INTERNAL', message: 'Internal error' });
  return principal;
}

/** The credential AuthGuard verified for this request, if the route is not public. */
export function credentialOf(request: FastifyRequest): Credential | undefined {
  return (request as AuthenticatedRequest)[CREDENTIAL_REQUEST_KEY];
}

/** Route parameter: the authenticated caller. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal =>
  principalOf(ctx.switchToHttp().getRequest<FastifyRequest>()),
);
