import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { AppError, PROBLEM_CONTENT_TYPE, type ProblemDetails, toProblem } from '@tessera/errors';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { problemInstanceOf } from './request-id';

/**
 * HTTP statuses with no gRPC counterpart (no error kind maps to them): they keep their own status and title. A 413
 * used to leave titled "Bad Request", the title of its kind (issue #13).
 */
export const HTTP_ONLY_STATUS: Readonly<Record<string, number>> = {
  'HTTP.BAD_URL': 400,
  'HTTP.MALFORMED_REQUEST': 400,
  'HTTP.REQUEST_TIMEOUT': 408,
  'HTTP.PAYLOAD_TOO_LARGE': 413,
  'HTTP.URI_TOO_LONG': 414,
  'HTTP.UNSUPPORTED_MEDIA_TYPE': 415,
  'HTTP.HEADERS_TOO_LARGE': 431,
};

/** The problem+json body and status of an error, the way every gateway response carries one. */
export function problemOf(error: unknown, instance: string): { status: number; body: ProblemDetails } {
  const problem = toProblem(error, instance);
  const own = error instanceof AppError ? HTTP_ONLY_STATUS[error.code] : undefined;
  if (own === undefined) return { status: problem.status, body: problem.body };
  return { status: own, body: { ...problem.body, status: own, title: STATUS_CODES[own] ?? problem.body.title } };
}

/**
 * Fastify's `frameworkErrors`: errors its router raises before any hook or route runs (a malformed percent-encoding,
 * a path parameter over maxParamLength). Fastify answered them with its own JSON, the second one echoing the whole
 * URL (issue #13); now problem+json like everything else, never echoing the URL (its query may carry credentials).
 */
export function frameworkErrorHandler(error: Error & { code?: string }, request: FastifyRequest, reply: FastifyReply): void {
  const app =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new AppError({ code: 'HTTP.URI_TOO_LONG', kind: 'INVALID_ARGUMENT', message: 'A path segment is longer than the gateway accepts' })
      : error.code === 'FST_ERR_BAD_URL'
        ? new AppError({
            code: 'HTTP.BAD_URL',
            kind: 'INVALID_ARGUMENT',
            message: 'The path is not a valid URL (malformed percent-encoding)',
          })
        : new AppError({ code: 'HTTP.INTERNAL', kind: 'INTERNAL', message: 'Internal error' });
  const { status, body } = problemOf(app, problemInstanceOf(request.id));
  void reply.status(status).header('content-type', PROBLEM_CONTENT_TYPE).send(body);
}

/**
 * Node's `clientError`, which Fastify answered with a bare JSON line: a request that never became one (timed out before
 * it was complete: 408; headers over the size limit: 431; anything the HTTP parser refused: 400). Written straight to
 * the socket, as there is no request; the instance is a fresh id (also in X-Request-Id) so a report can still name it.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const app =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new AppError({
          code: 'HTTP.REQUEST_TIMEOUT',
          kind: 'INVALID_ARGUMENT',
          message: 'The request was not complete within the time limit',
        })
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? new AppError({
            code: 'HTTP.HEADERS_TOO_LARGE',
            kind: 'INVALID_ARGUMENT',
            message: 'The request line and headers exceed the size limit',
          })
        : new AppError({ code: 'HTTP.MALFORMED_REQUEST', kind: 'INVALID_ARGUMENT', message: 'The HTTP request could not be parsed' });
  const id = randomUUID();
  const { status, body } = problemOf(app, problemInstanceOf(id));
  const json = JSON.stringify(body);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(json)}\r\nX-Request-Id: ${id}\r\nConnection: close\r\n\r\n${json}`,
    );
  }
  socket.destroy(err);
}
