import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type Principal, requireScope, requireTenant } from '@tessera/auth';
import { AppError, isAppError } from '@tessera/errors';
import { createLogger } from '@tessera/telemetry';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RATE_CLASS_KEY, type RateClass, rateClassOf } from '../rate-limit/rate-limits';
import { RateLimiter } from '../rate-limit/rate-limiter';
import {
  type AuthenticatedRequest,
  CREDENTIAL_REQUEST_KEY,
  type Credential,
  PRINCIPAL_REQUEST_KEY,
  type RouteAuth,
  routeAuthOfTargets,
} from './auth.decorators';

/** What the guard needs from @tessera/auth; an interface so the module can wire the real ones from config. */
export interface Authenticators {
  verifier: { verify(token: string): Promise<Principal> };
  apiKeys: { authenticate(key: string): Principal };
}
export const AUTHENTICATORS = Symbol('AUTHENTICATORS');

/** For code that builds the module without serving requests (Nest preview mode, the OpenAPI snapshot): refuses every credential. */
export function refusingAuthenticators(): Authenticators {
  const refuse = (): never => {
    throw new AppError({ code: 'AUTH.TOKEN_INVALID', kind: 'UNAUTHENTICATED', message: 'The token is not valid: no verifier configured' });
  };
  return { verifier: { verify: async () => refuse() }, apiKeys: { authenticate: refuse } };
}

const BEARER = /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)$/i;
/** The id part of `tsk_<keyId>_<secret>`, logged (unverified) so a failing client can be traced without its secret. */
const KEY_ID = /^tsk_([a-z2-7]{12})_/i;

/**
 * The edge's single entrance check, registered as APP_GUARD so a route without `@Public()` can never be reached
 * anonymously by forgetting a decorator. Order: public routes are rate-limited per IP; otherwise an IP that has
 * used up its auth-failure bucket is refused before any verification work; then the credential is verified
 * (bearer everywhere, X-Api-Key only on `@AllowApiKey()` routes), the client's bucket for the route class is
 * charged, and scopes and tenant are checked. Services re-check everything from the forwarded credential.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly audit = createLogger('AuthAudit');

  constructor(
    private readonly reflector: Reflector,
    private readonly limiter: RateLimiter,
    @Inject(AUTHENTICATORS) private readonly auth: Authenticators,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const request = ctx.switchToHttp().getRequest<AuthenticatedRequest>();
    const reply = ctx.switchToHttp().getResponse<FastifyReply>();
    const route = routeAuthOfTargets(ctx.getClass(), ctx.getHandler());
    const explicit = this.reflector.getAllAndOverride<RateClass | undefined>(RATE_CLASS_KEY, [ctx.getHandler(), ctx.getClass()]);
    const rateClass = rateClassOf(request.method, route.public, explicit);

    if (route.public) {
      this.limiter.charge(reply, rateClass, `ip:${request.ip}`);
      return true;
    }

    this.limiter.refuseIfExhausted(reply, 'auth-failure', `ip:${request.ip}`);
    let principal: Principal;
    try {
      const credential = credentialFrom(request, route);
      principal =
        credential.kind === 'bearer' ? await this.auth.verifier.verify(credential.token) : this.auth.apiKeys.authenticate(credential.key);
      request[PRINCIPAL_REQUEST_KEY] = principal;
      request[CREDENTIAL_REQUEST_KEY] = credential;
    } catch (error) {
      if (isAppError(error) && error.kind === 'UNAUTHENTICATED') {
        this.limiter.spend('auth-failure', `ip:${request.ip}`);
        this.logFailure(request, error, undefined);
      }
      throw error;
    }

    this.limiter.charge(reply, rateClass, principal.subject);
    try {
      for (const scope of route.scopes) requireScope(principal, scope);
      if (route.tenantQuery !== undefined) {
        const tenant = (request.query as Record<string, unknown> | undefined)?.[route.tenantQuery];
        // A missing or repeated parameter is left to the route's query validation (400); whatever it accepts is this string.
        if (typeof tenant === 'string') requireTenant(principal, tenant);
      }
    } catch (error) {
      if (isAppError(error)) this.logFailure(request, error, principal);
      throw error;
    }
    return true;
  }

  /** The audit line of a refused credential: who, where, why; never the token or key itself. */
  private logFailure(request: FastifyRequest, error: AppError, principal: Principal | undefined): void {
    const apiKey = single(request.headers['x-api-key']);
    const keyId = apiKey ? KEY_ID.exec(apiKey)?.[1] : undefined;
    this.audit.warn(
      {
        event: 'auth.failure',
        code: error.code,
        method: request.method,
        route: request.routeOptions?.url,
        ip: request.ip,
        requestId: request.id,
        ...(principal
          ? { subject: principal.subject, credentialId: principal.credentialId }
          : keyId
            ? { credentialId: `apikey:${keyId}` }
            : {}),
        ...(error.metadata['scope'] ? { scope: error.metadata['scope'] } : {}),
      },
      'request refused',
    );
  }
}

function single(raw: string | string[] | undefined): string | undefined {
  return Array.isArray(raw) ? raw[0] : raw;
}

/** Bearer header wins, then X-Api-Key (where allowed), then, on EventSource routes, the same two as query parameters. */
export function credentialFrom(request: FastifyRequest, route: Pick<RouteAuth, 'apiKey' | 'queryCredentials'>): Credential {
  const authorization = single(request.headers.authorization);
  if (authorization !== undefined && authorization !== '') {
    const token = BEARER.exec(authorization)?.[1];
    if (!token)
      throw new AppError({
        code: 'AUTH.TOKEN_INVALID',
        kind: 'UNAUTHENTICATED',
        message: 'The token is not valid: use Authorization: Bearer <jwt>',
      });
    return { kind: 'bearer', token };
  }
  const query = route.queryCredentials ? (request.query as Record<string, unknown> | undefined) : undefined;
  const accessToken = query?.['access_token'];
  if (typeof accessToken === 'string' && accessToken !== '') return { kind: 'bearer', token: accessToken };
  if (route.apiKey) {
    const header = single(request.headers['x-api-key']);
    const fromQuery = query?.['apiKey'];
    const key = header || (typeof fromQuery === 'string' ? fromQuery : undefined);
    if (key) return { kind: 'api-key', key };
    throw new AppError({
      code: 'AUTH.CREDENTIALS_REQUIRED',
      kind: 'UNAUTHENTICATED',
      message: 'Send credentials: Authorization: Bearer <jwt>, or X-Api-Key',
    });
  }
  throw new AppError({
    code: 'AUTH.TOKEN_REQUIRED',
    kind: 'UNAUTHENTICATED',
    message: 'Send a bearer token (Authorization: Bearer <jwt>)',
  });
}
