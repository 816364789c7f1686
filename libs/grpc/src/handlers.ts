import type { handleUnaryCall, ServerUnaryCall, sendUnaryData, UntypedServiceImplementation } from '@grpc/grpc-js';
import { AppError, databaseUnavailable, isAppError, toGrpcStatus } from '@tessera/errors';
import { createLogger, injectFault, type Logger } from '@tessera/telemetry';
import { callContextOf, runWithCallContext, type CallContext } from './call-context';

const defaultLogger = createLogger('GrpcServer');

/** A unary handler in promise form; throw an AppError to fail the call with its status. */
export type UnaryHandler<Req, Res> = (request: Req, ctx: CallContext) => Promise<Res>;

export interface WrapOptions {
  logger?: Logger;
}

/**
 * Paths of string fields holding U+0000. Protobuf strings may carry NUL but PostgreSQL text cannot, so such a
 * request would otherwise fail deep in a repository as an INTERNAL error; every service refuses it up front.
 */
export function nulFieldsOf(value: unknown, path = '', out: string[] = [], depth = 0): string[] {
  if (out.length >= 10 || depth > 16) return out;
  if (typeof value === 'string') {
    if (value.includes('\u0000')) out.push(path || '(request)');
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => nulFieldsOf(v, `${path}[${i}]`, out, depth + 1));
  } else if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array) && !(value instanceof Date)) {
    for (const [k, v] of Object.entries(value)) nulFieldsOf(v, path ? `${path}.${k}` : k, out, depth + 1);
  }
  return out;
}

function refuseNul(request: unknown): void {
  const fields = nulFieldsOf(request);
  if (fields.length === 0) return;
  throw new AppError({
    code: 'GRPC.NUL_IN_STRING',
    kind: 'INVALID_ARGUMENT',
    message: 'Text fields must not contain the NUL character (U+0000)',
    fieldViolations: fields.map((field) => ({ field, description: 'must not contain U+0000' })),
  });
}

/** Caller mistakes are routine; only failures on our side deserve an error log. */
/** Server-side failures that are not bugs: logged without the error object. */
const OVERLOAD_KINDS = new Set(['UNAVAILABLE', 'DEADLINE_EXCEEDED', 'RESOURCE_EXHAUSTED']);
const CLIENT_KINDS = new Set([
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'FAILED_PRECONDITION',
  'PERMISSION_DENIED',
  'UNAUTHENTICATED',
  'ABORTED',
]);

/**
 * Adapts a promise handler to grpc-js. Whatever it throws becomes `toGrpcStatus(err)`: AppErrors keep
 * code, metadata and field violations; a database that could not serve in time is UNAVAILABLE
 * (`databaseUnavailable`); anything else is a generic INTERNAL. The handler runs inside
 * its CallContext (forwarded credential, verified peer, deadline, cancellation). Requests with NUL in a string
 * field are refused with INVALID_ARGUMENT before the handler runs. Logs carry method and error code, never the
 * request, so no PII reaches them.
 */
export function wrapUnary<Req, Res>(handler: UnaryHandler<Req, Res>, options: WrapOptions = {}): handleUnaryCall<Req, Res> {
  const logger = options.logger ?? defaultLogger;
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    const ctx = callContextOf(call);
    const method = ctx.method;
    // A `grpc-server` fault (npm run infra -- faults) delays or fails the call here; off, this is Promise.resolve().
    runWithCallContext(ctx, () =>
      Promise.resolve(injectFault('grpc-server', method, injectedUnavailable)).then(() => {
        refuseNul(call.request);
        return handler(call.request, ctx);
      }),
    ).then(
      (response) => callback(null, response),
      (thrown: unknown) => {
        // A database that could not serve in time is an overload (UNAVAILABLE, retryable), not a bug (INTERNAL).
        const error = isAppError(thrown) ? thrown : (databaseUnavailable(thrown) ?? thrown);
        const status = toGrpcStatus(error);
        if (isAppError(error) && CLIENT_KINDS.has(error.kind)) {
          logger.info({ method, code: error.code, kind: error.kind }, 'grpc call rejected');
        } else if (isAppError(error) && OVERLOAD_KINDS.has(error.kind)) {
          // Expected under load (a dependency slow or down, a caller gone): one short line with the cause's message.
          // Serialising the whole error with its stack and causes for each of these made logging the costliest part
          // of an overloaded service (issue #10).
          const cause = error.cause instanceof Error ? error.cause.message : undefined;
          logger.warn(
            { method, code: error.code, kind: error.kind, grpcCode: status.code, ...(cause ? { cause } : {}) },
            'grpc call failed',
          );
        } else {
          logger.error({ method, err: error, grpcCode: status.code }, 'grpc call failed');
        }
        callback(status, null);
      },
    );
  };
}

/** The error of the `grpc-server` fault (issue #14 fault toggles): an overloaded or failing dependency, retryable. */
function injectedUnavailable(): AppError {
  return new AppError({
    code: 'FAULT.INJECTED',
    kind: 'UNAVAILABLE',
    message: 'A fault was injected on purpose (npm run infra -- faults); retry later',
  });
}

/** Promise-style implementation of a generated service's unary methods. */
export type UnaryImplementation<D> = {
  [K in keyof D]: D[K] extends { requestDeserialize: (b: Buffer) => infer Req; responseSerialize: (v: infer Res) => Buffer }
    ? UnaryHandler<Req, Res>
    : never;
};

/**
 * Wraps every method of a promise-style implementation with {@link wrapUnary}, keyed like the
 * ts-proto service definition (`AccountServiceService`).
 */
export function unaryService<D extends Record<string, { requestStream: boolean; responseStream: boolean }>>(
  definition: D,
  implementation: UnaryImplementation<D>,
  options: WrapOptions = {},
): UntypedServiceImplementation {
  const out: UntypedServiceImplementation = {};
  for (const key of Object.keys(definition)) {
    const method = definition[key];
    if (!method) continue;
    if (method.requestStream || method.responseStream) {
      throw new Error(`unaryService: ${key} is a streaming method; implement it with grpc-js directly`);
    }
    const handler = (implementation as Record<string, UnaryHandler<unknown, unknown>>)[key];
    if (!handler) throw new Error(`unaryService: no handler for ${key}`);
    out[key] = wrapUnary(handler, options);
  }
  return out;
}
