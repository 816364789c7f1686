import { AsyncLocalStorage } from 'node:async_hooks';
import { InterceptingCall, Metadata, type Interceptor } from '@grpc/grpc-js';

/** Metadata keys carrying the caller's identity between services. */
export const AUTHORIZATION_KEY = 'authorization';
export const PRINCIPAL_KEY = 'x-tessera-principal';

/** Per-call facts a handler may need; identity comes from metadata, never from the request body. */
export interface CallContext {
  /** Raw `authorization` value (e.g. "Bearer …"); forwarded, never logged. */
  authorization: string | undefined;
  /** Authenticated principal id set by the gateway (`x-tessera-principal`). */
  principal: string | undefined;
  /** Full method path, e.g. `/tessera.payments.v1.AccountService/GetAccount`. */
  method: string;
  /** Absolute deadline, if the caller set one. */
  deadline: Date | undefined;
  /** Aborted when the client cancels or the deadline passes. */
  signal: AbortSignal;
  metadata: Metadata;
}

const storage = new AsyncLocalStorage<CallContext>();

/** The context of the gRPC call being served, anywhere below its handler; undefined outside one. */
export function currentCallContext(): CallContext | undefined {
  return storage.getStore();
}

/** Runs `fn` with `ctx` as the current call context (used by the handler wrappers). */
export function runWithCallContext<R>(ctx: CallContext, fn: () => R): R {
  return storage.run(ctx, fn);
}

function first(metadata: Metadata, key: string): string | undefined {
  const [value] = metadata.get(key);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Reads identity metadata from an incoming call. */
export function callContextFromMetadata(
  metadata: Metadata,
  method: string,
  deadline: Date | number | undefined,
  signal: AbortSignal,
): CallContext {
  const when = deadline === undefined || deadline === Infinity ? undefined : new Date(deadline);
  return {
    authorization: first(metadata, AUTHORIZATION_KEY),
    principal: first(metadata, PRINCIPAL_KEY),
    method,
    deadline: when && Number.isFinite(when.getTime()) ? when : undefined,
    signal,
    metadata,
  };
}

export interface Credentials {
  authorization?: string;
  principal?: string;
}

/**
 * Client interceptor that attaches `authorization` and `x-tessera-principal`. By default it forwards
 * the identity of the call currently being served, so service-to-service hops keep the end user.
 * Values already present on the outgoing metadata win.
 */
export function authClientInterceptor(
  credentials: () => Credentials | undefined = () => currentCallContext(),
): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        const creds = credentials();
        if (creds?.authorization && metadata.get(AUTHORIZATION_KEY).length === 0) {
          metadata.set(AUTHORIZATION_KEY, creds.authorization);
        }
        if (creds?.principal && metadata.get(PRINCIPAL_KEY).length === 0) {
          metadata.set(PRINCIPAL_KEY, creds.principal);
        }
        next(metadata, listener);
      },
    });
}
