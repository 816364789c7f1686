import { type ArgumentsHost, BadRequestException, NotFoundException } from '@nestjs/common';
import { AppError, INTERNAL_CODE, INTERNAL_MESSAGE, PROBLEM_CONTENT_TYPE } from '@tessera/errors';
import { normalise, ProblemFilter, wwwAuthenticateOf } from './problem.filter';

/** A Fastify-shaped error (what its body parser and router throw): plain Error with a statusCode. */
function fastifyError(statusCode: number, code: string, message: string): Error {
  return Object.assign(new Error(message), { statusCode, code });
}

interface Sent {
  status?: number;
  headers: Record<string, string>;
  body?: Record<string, unknown>;
}

const REQUEST_ID = 'req-12345678';

function run(exception: unknown, url = '/v1/accounts'): Sent {
  const sent: Sent = { headers: {} };
  const reply = {
    status(code: number) {
      sent.status = code;
      return reply;
    },
    header(name: string, value: string) {
      sent.headers[name.toLowerCase()] = value;
      return reply;
    },
    send(body: Record<string, unknown>) {
      sent.body = body;
      return reply;
    },
  };
  const request = { url, id: REQUEST_ID, routeOptions: { url } };
  const host = { switchToHttp: () => ({ getRequest: () => request, getResponse: () => reply }) } as unknown as ArgumentsHost;
  new ProblemFilter().catch(exception, host);
  return sent;
}

describe('normalise', () => {
  it('passes an AppError through untouched', () => {
    const error = new AppError({ code: 'PAYMENTS.ACCOUNT_NOT_FOUND', kind: 'NOT_FOUND', message: 'No such account' });
    expect(normalise(error)).toBe(error);
  });

  it("turns Nest's unknown-route exception into HTTP.ROUTE_NOT_FOUND", () => {
    expect(normalise(new NotFoundException('Cannot GET /nope'))).toMatchObject({ code: 'HTTP.ROUTE_NOT_FOUND', kind: 'NOT_FOUND' });
  });

  it("turns Fastify's oversize-body error into HTTP.PAYLOAD_TOO_LARGE", () => {
    const error = fastifyError(413, 'FST_ERR_CTP_BODY_TOO_LARGE', 'Request body is too large');
    expect(normalise(error)).toMatchObject({ code: 'HTTP.PAYLOAD_TOO_LARGE', kind: 'INVALID_ARGUMENT' });
  });

  it("turns Fastify's unsupported media type into HTTP.UNSUPPORTED_MEDIA_TYPE", () => {
    expect(normalise(fastifyError(415, 'FST_ERR_CTP_INVALID_MEDIA_TYPE', 'Unsupported Media Type'))).toMatchObject({
      code: 'HTTP.UNSUPPORTED_MEDIA_TYPE',
    });
  });

  it('keeps the message of other 4xx framework errors as a bad request', () => {
    const error = fastifyError(
      400,
      'FST_ERR_CTP_INVALID_JSON_BODY',
      "Body is not valid JSON but content-type is set to 'application/json'",
    );
    expect(normalise(error)).toMatchObject({ code: 'HTTP.BAD_REQUEST', kind: 'INVALID_ARGUMENT', message: error.message });
    expect(normalise(new BadRequestException('nope'))).toMatchObject({ code: 'HTTP.BAD_REQUEST', message: 'nope' });
  });

  it('leaves unknown errors (and 5xx framework errors) for the generic INTERNAL mapping', () => {
    const bug = new TypeError('cannot read properties of undefined');
    expect(normalise(bug)).toBe(bug);
    const upstream = fastifyError(502, 'X', 'boom');
    expect(normalise(upstream)).toBe(upstream);
    expect(normalise(null)).toBeNull();
  });
});

describe('wwwAuthenticateOf', () => {
  it('omits the error attribute only when no credential was sent', () => {
    expect(wwwAuthenticateOf('AUTH.CREDENTIALS_REQUIRED')).toBe('Bearer realm="tessera"');
    expect(wwwAuthenticateOf('AUTH.UNKNOWN_KEY')).toBe('Bearer realm="tessera", error="invalid_token"');
  });
});

describe('ProblemFilter', () => {
  describe('catch', () => {
    it('answers an unknown route with a 404 problem+json naming the request by its id', () => {
      const sent = run(new NotFoundException('Cannot GET /nope'), '/nope');
      expect(sent.status).toBe(404);
      expect(sent.headers['content-type']).toBe(PROBLEM_CONTENT_TYPE);
      expect(sent.body).toMatchObject({
        status: 404,
        code: 'HTTP.ROUTE_NOT_FOUND',
        instance: `urn:tessera:request:${REQUEST_ID}`,
        title: 'Not Found',
      });
    });

    it('never echoes the URL (its query may carry a credential)', () => {
      const sent = run(new NotFoundException('x'), '/v1/live/aggregates?tenantId=a&apiKey=tsk_secret');
      expect(JSON.stringify(sent.body)).not.toContain('tsk_secret');
    });

    it('challenges a 401 with WWW-Authenticate: Bearer, flagging a presented but bad token', () => {
      const missing = run(new AppError({ code: 'AUTH.TOKEN_REQUIRED', kind: 'UNAUTHENTICATED', message: 'Send a bearer token' }));
      expect(missing.status).toBe(401);
      expect(missing.headers['www-authenticate']).toBe('Bearer realm="tessera"');
      const expired = run(new AppError({ code: 'AUTH.TOKEN_EXPIRED', kind: 'UNAUTHENTICATED', message: 'expired' }));
      expect(expired.headers['www-authenticate']).toBe('Bearer realm="tessera", error="invalid_token"');
      expect(
        run(new AppError({ code: 'AUTH.SCOPE_REQUIRED', kind: 'PERMISSION_DENIED', message: 'no' })).headers['www-authenticate'],
      ).toBeUndefined();
    });

    it('keeps 413 for an oversize body although its kind maps to 400', () => {
      const sent = run(fastifyError(413, 'FST_ERR_CTP_BODY_TOO_LARGE', 'Request body is too large'));
      expect(sent.status).toBe(413);
      expect(sent.body).toMatchObject({ status: 413, code: 'HTTP.PAYLOAD_TOO_LARGE' });
    });

    it('maps an AppError by kind and keeps code, message and field violations', () => {
      const sent = run(
        new AppError({
          code: 'HTTP.INVALID_REQUEST',
          kind: 'INVALID_ARGUMENT',
          message: 'The request is invalid',
          fieldViolations: [{ field: 'currency', description: 'must be an ISO 4217 code such as EUR' }],
        }),
      );
      expect(sent.status).toBe(400);
      expect(sent.body).toEqual({
        type: 'https://tessera.dev/problems/HTTP.INVALID_REQUEST',
        title: 'Bad Request',
        status: 400,
        detail: 'The request is invalid',
        instance: `urn:tessera:request:${REQUEST_ID}`,
        code: 'HTTP.INVALID_REQUEST',
        errors: [{ field: 'currency', description: 'must be an ISO 4217 code such as EUR' }],
      });
    });

    it('maps an upstream UNAVAILABLE to 503', () => {
      const sent = run(new AppError({ code: 'GRPC.UNAVAILABLE', kind: 'UNAVAILABLE', message: 'transactions is unreachable' }));
      expect(sent.status).toBe(503);
      expect(sent.body).toMatchObject({ status: 503, code: 'GRPC.UNAVAILABLE' });
    });

    it("tells every 503 when to retry: the service's hint, else a default (a database outage included)", () => {
      const db = run(
        new AppError({ code: 'DB.UNAVAILABLE', kind: 'UNAVAILABLE', message: 'The database could not take this request in time' }),
      );
      expect([db.status, db.headers['retry-after']]).toEqual([503, '2']);
      const hinted = run(
        new AppError({ code: 'INGEST.OVERLOADED', kind: 'UNAVAILABLE', message: 'busy', metadata: { retryAfterSeconds: '7' } }),
      );
      expect(hinted.headers['retry-after']).toBe('7');
      expect(run(new AppError({ code: 'X.Y', kind: 'INVALID_ARGUMENT', message: 'no' })).headers['retry-after']).toBeUndefined();
    });

    it('answers an unknown error with a generic 500 that leaks nothing', () => {
      const sent = run(new Error('connect ECONNREFUSED postgres://tessera:secret@db'));
      expect(sent.status).toBe(500);
      expect(sent.body).toMatchObject({ status: 500, code: INTERNAL_CODE, detail: INTERNAL_MESSAGE });
      expect(JSON.stringify(sent.body)).not.toMatch(/secret|ECONNREFUSED/);
    });
  });
});
