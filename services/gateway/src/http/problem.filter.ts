import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import { AppError, PROBLEM_CONTENT_TYPE } from '@tessera/errors';
import { createLogger } from '@tessera/telemetry';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { problemOf } from './framework-errors';
import { problemInstanceOf } from './request-id';

/**
 * The gateway's single error exit: every error leaves as RFC 9457 problem+json. gRPC failures arrive here
 * already converted to AppError by the gRPC client helper, so a status maps the same way on every route.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = createLogger('ProblemFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const error = normalise(exception);
    // The instance names this occurrence by request id (also in X-Request-Id and the logs), never the URL: its query may carry credentials.
    // HTTP-only statuses with no gRPC counterpart keep their own status code and title (problemOf).
    const { status, body } = problemOf(error, problemInstanceOf(request.id));
    if (status >= 500) this.logger.error({ err: exception, path: request.routeOptions?.url, requestId: request.id }, 'request failed');
    if (status === 401) void reply.header('www-authenticate', wwwAuthenticateOf(body.code));
    if (status === 503) void reply.header('retry-after', String(retryAfterOf(error)));
    void reply.status(status).header('content-type', PROBLEM_CONTENT_TYPE).send(body);
  }
}

/** ErrorInfo metadata key a service may set on UNAVAILABLE (ingest does: its back-pressure hint). */
export const RETRY_AFTER_KEY = 'retryAfterSeconds';
/** When the service gave no hint: a database restart or a broker election is over in seconds. */
export const DEFAULT_RETRY_AFTER_SECONDS = 2;

/**
 * Seconds in the Retry-After of every 503: an unavailable dependency (database down, Kafka down, compliance down) is an
 * expected condition with a remedy, retrying later (a write with the same Idempotency-Key), and clients are told when.
 */
export function retryAfterOf(error: unknown): number {
  const hint = error instanceof AppError ? Number(error.metadata[RETRY_AFTER_KEY]) : NaN;
  return Number.isInteger(hint) && hint > 0 ? hint : DEFAULT_RETRY_AFTER_SECONDS;
}

/** Codes meaning "no credential was sent": RFC 6750 says the challenge then carries no error attribute. */
const MISSING_CREDENTIAL = new Set(['AUTH.TOKEN_REQUIRED', 'AUTH.CREDENTIALS_REQUIRED', 'AUTH.API_KEY_REQUIRED']);

/** RFC 6750 challenge of a 401, whichever hop (edge or service) refused the credential. */
export function wwwAuthenticateOf(code: string): string {
  return MISSING_CREDENTIAL.has(code) ? 'Bearer realm="tessera"' : 'Bearer realm="tessera", error="invalid_token"';
}

/** Framework errors (unknown route, malformed JSON, oversize body) become typed AppErrors. */
export function normalise(exception: unknown): unknown {
  if (exception instanceof AppError) return exception;
  if (exception instanceof HttpException) return fromHttpStatus(exception.getStatus(), exception.message);
  const fastifyStatus = (exception as { statusCode?: unknown } | null)?.statusCode;
  if (typeof fastifyStatus === 'number' && fastifyStatus >= 400 && fastifyStatus < 500) {
    return fromHttpStatus(fastifyStatus, (exception as Error).message);
  }
  return exception;
}

function fromHttpStatus(status: number, message: string): AppError {
  switch (status) {
    case 404:
      return new AppError({ code: 'HTTP.ROUTE_NOT_FOUND', kind: 'NOT_FOUND', message: 'No such route' });
    case 413:
      return new AppError({ code: 'HTTP.PAYLOAD_TOO_LARGE', kind: 'INVALID_ARGUMENT', message: 'Request body exceeds the size limit' });
    case 415:
      return new AppError({ code: 'HTTP.UNSUPPORTED_MEDIA_TYPE', kind: 'INVALID_ARGUMENT', message: 'Send application/json' });
    case 429:
      return new AppError({ code: 'HTTP.RATE_LIMITED', kind: 'RESOURCE_EXHAUSTED', message: 'Too many requests' });
    default:
      return status < 500
        ? new AppError({ code: 'HTTP.BAD_REQUEST', kind: 'INVALID_ARGUMENT', message: message || 'Malformed request' })
        : new AppError({ code: 'HTTP.INTERNAL', kind: 'INTERNAL', message: 'Internal error' });
  }
}
