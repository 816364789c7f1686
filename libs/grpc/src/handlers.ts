import type { handleUnaryCall, ServerUnaryCall, sendUnaryData, UntypedServiceImplementation } from '@grpc/grpc-js';
import { isAppError, toGrpcStatus } from '@tessera/errors';
import { createLogger, type Logger } from '@tessera/telemetry';
import { callContextOf, runWithCallContext, type CallContext } from './call-context';

const defaultLogger = createLogger('GrpcServer');

/** A unary handler in promise form; throw an AppError to fail the call with its status. */
export type UnaryHandler<Req, Res> = (request: Req, ctx: CallContext) => Promise<Res>;

export interface WrapOptions {
  logger?: Logger;
}

/** Caller mistakes are routine; only failures on our side deserve an error log. */
const CLIENT_KINDS = new Set(['INVALID_ARGUMENT', 'NOT_FOUND', 'ALREADY_EXISTS', 'FAILED_PRECONDITION', 'PERMISSION_DENIED', 'UNAUTHENTICATED', 'ABORTED']);

/**
 * Adapts a promise handler to grpc-js. Whatever it throws becomes `toGrpcStatus(err)`: AppErrors keep
 * code, metadata and field violations; anything else is a generic INTERNAL. The handler runs inside
 * its CallContext (forwarded credential, verified peer, deadline, cancellation). Logs carry method and error code, never the
 * request, so no PII reaches them.
 */
export function wrapUnary<Req, Res>(handler: UnaryHandler<Req, Res>, options: WrapOptions = {}): handleUnaryCall<Req, Res> {
  const logger = options.logger ?? defaultLogger;
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    const ctx = callContextOf(call);
    const method = ctx.method;
    runWithCallContext(ctx, () => Promise.resolve().then(() => handler(call.request, ctx))).then(
      (response) => callback(null, response),
      (error: unknown) => {
        const status = toGrpcStatus(error);
        if (isAppError(error) && CLIENT_KINDS.has(error.kind)) {
          logger.info({ method, code: error.code, kind: error.kind }, 'grpc call rejected');
        } else {
          logger.error({ method, err: error, grpcCode: status.code }, 'grpc call failed');
        }
        callback(status, null);
      },
    );
  };
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
