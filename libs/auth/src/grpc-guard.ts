/**
 * Per-method authorisation for a service's gRPC server: every call is authenticated and authorised by the
 * service itself, from its own metadata and TLS peer, whatever sits in front ("a service never trusts a call
 * just because it came from inside"). Each service declares one policy table (`src/auth/<service>.policy.ts`)
 * and wraps its implementations with {@link guardService} in one place (its grpc-server host).
 */
import type { Metadata, ServiceDefinition, UntypedHandleCall, UntypedServiceImplementation } from '@grpc/grpc-js';
import { AppError, isAppError, toGrpcStatus } from '@tessera/errors';
import { transportFactsOf } from '@tessera/grpc';
import { createLogger, type Logger } from '@tessera/telemetry';
import type { CallerAuthenticator } from './caller';
import { type Principal, requireRole, requireScope } from './principal';
import type { Role, Scope } from './roles';

/** What one RPC demands of its caller. */
export type MethodPolicy =
  /** An end user (JWT) holding `scope`, and `role` when set; an API key too only when `apiKey` is true. */
  | { readonly scope: Scope; readonly role?: Role; readonly apiKey?: boolean }
  /**
   * Only these services, named by the CN of their verified mTLS client certificate. A forwarded end-user
   * credential, when present, is verified too and becomes the audit actor. On a plaintext connection (explicit
   * local dev mode, TESSERA_GRPC_PLAINTEXT) there is no peer to check, so the call is let through.
   */
  | { readonly services: readonly string[] };

/** One policy per RPC, keyed like the ts-proto service definition; the compiler rejects a missing entry. */
export type PolicyTable<D> = { readonly [K in keyof D]: MethodPolicy };

/** The authenticated caller of the call being served. */
export interface Caller {
  /** End user or API key; absent only on a service-only method called without a forwarded credential. */
  principal?: Principal;
  /** Calling service (mTLS CN), on service-only methods. */
  service?: string;
}

/** What the guard reads from a call. `transport` is what the connection really was, not what config claims. */
export interface CallFacts {
  metadata: { get(key: string): Array<string | Buffer> };
  /** CN of the verified client certificate; undefined on plaintext. */
  peer?: string;
  transport: 'mtls' | 'plaintext';
}

export const GUARD_CODES = { serviceOnly: 'AUTH.SERVICE_ONLY', principalRequired: 'AUTH.CREDENTIALS_REQUIRED' } as const;

const serviceOnly = () =>
  new AppError({
    code: GUARD_CODES.serviceOnly,
    kind: 'PERMISSION_DENIED',
    message: 'This method is only for internal services (mTLS client certificate)',
  });

function carriesCredential(metadata: CallFacts['metadata']): boolean {
  return metadata.get('authorization').length > 0 || metadata.get('x-api-key').length > 0;
}

/**
 * Decides one call against its policy. Pure apart from the authenticator, so it is unit-tested with fake facts
 * (the mTLS peer case included).
 * @throws AppError UNAUTHENTICATED `AUTH.*` (no/bad credential), PERMISSION_DENIED `AUTH.SCOPE_REQUIRED`,
 *   `AUTH.ROLE_REQUIRED`, `AUTH.SERVICE_ONLY`.
 */
export async function authorizeCall(policy: MethodPolicy, facts: CallFacts, authenticator: CallerAuthenticator): Promise<Caller> {
  if ('services' in policy) {
    if (facts.transport === 'mtls') {
      if (facts.peer === undefined || !policy.services.includes(facts.peer)) throw serviceOnly();
    }
    const principal = carriesCredential(facts.metadata) ? await authenticator.authenticate(facts.metadata) : undefined;
    return { ...(principal ? { principal } : {}), service: facts.peer ?? 'plaintext-peer' };
  }
  const principal = await authenticator.authenticate(facts.metadata, { allowApiKey: policy.apiKey ?? false });
  requireScope(principal, policy.scope);
  if (policy.role) requireRole(principal, policy.role);
  return { principal };
}

/** grpc-js server call surface the guard needs (every call kind has it). */
interface GuardedCall {
  metadata: Metadata;
  getPath(): string;
  getAuthContext(): { transportSecurityType?: string; sslPeerCertificate?: { subject?: { CN?: string | string[] } } };
}

/**
 * Transport and peer CN of a served call, from the TLS session itself: @tessera/grpc's `transportFactsOf`, the one
 * reading of the peer certificate per call that the call context shares (a certificate with several CNs names no peer).
 */
export function factsOf(call: GuardedCall): CallFacts {
  const { transport, peer } = transportFactsOf(call as Parameters<typeof transportFactsOf>[0]);
  return { metadata: call.metadata, transport, ...(peer ? { peer } : {}) };
}

// Keyed by the call's Metadata object, which is also CallContext.metadata, so handlers (and code below them via
// currentCallContext()) reach the caller without a second source of identity.
const callers = new WeakMap<object, Caller>();

/**
 * Records the admitted caller of a call. guardService does this; unit tests of handlers use it to stand in for an
 * admitted call without a gRPC server.
 */
export function rememberCaller(call: { metadata: object }, caller: Caller): void {
  callers.set(call.metadata, caller);
}

/** The caller the guard admitted for this call (pass the CallContext or the raw grpc-js call). */
export function callerOf(call: { metadata: object } | undefined): Caller | undefined {
  return call ? callers.get(call.metadata) : undefined;
}

/** The end-user/API-key principal of this call; a handler behind a user policy always has one. */
export function principalOf(call: { metadata: object } | undefined): Principal {
  const principal = callerOf(call)?.principal;
  if (!principal)
    throw new AppError({
      code: GUARD_CODES.principalRequired,
      kind: 'UNAUTHENTICATED',
      message: 'This call carries no verified credential',
    });
  return principal;
}

/** Audit actor: the principal's subject, else `service:<cn>`, else 'anonymous' (work not started by a call). */
export function actorOf(call: { metadata: object } | undefined): string {
  const caller = callerOf(call);
  if (caller?.principal) return caller.principal.subject;
  if (caller?.service) return `service:${caller.service}`;
  return 'anonymous';
}

/**
 * Wraps every handler of a grpc-js service implementation (unary or streaming) so it runs only after
 * {@link authorizeCall} admitted the call. Throws at boot when an RPC has no policy (fail closed).
 */
export function guardService(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- grpc-js's own definition type is untyped by design
  definition: ServiceDefinition<any>,
  policies: Readonly<Record<string, MethodPolicy>>,
  implementation: UntypedServiceImplementation,
  authenticator: CallerAuthenticator,
  logger: Logger = createLogger('CallGuard'),
): UntypedServiceImplementation {
  const out: UntypedServiceImplementation = {};
  for (const [key, method] of Object.entries(definition)) {
    const policy = policies[key];
    const handler = implementation[key] as ((...args: unknown[]) => void) | undefined;
    if (!policy) throw new Error(`guardService: ${method.path} has no authorisation policy`);
    if (!handler) throw new Error(`guardService: ${method.path} has no handler`);
    const admit = (call: GuardedCall): Promise<void> =>
      authorizeCall(policy, factsOf(call), authenticator).then(
        (caller) => rememberCaller(call, caller),
        (error: unknown) => {
          const code = isAppError(error) ? error.code : 'INTERNAL';
          logger.info({ method: method.path, code, transport: factsOf(call).transport }, 'grpc call refused by policy');
          throw error;
        },
      );
    const wrapped = method.responseStream
      ? (call: GuardedCall & { emit(event: 'error', status: unknown): boolean }) =>
          void admit(call).then(
            () => handler(call),
            (error: unknown) => call.emit('error', toGrpcStatus(error)),
          )
      : (call: GuardedCall, callback: (status: unknown, value: null) => void) =>
          void admit(call).then(
            () => handler(call, callback),
            (error: unknown) => callback(toGrpcStatus(error), null),
          );
    out[key] = wrapped as unknown as UntypedHandleCall;
  }
  return out;
}
