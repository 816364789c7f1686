import { type ErrorKind, INTERNAL_CODE, INTERNAL_MESSAGE, isAppError } from './app-error';

/** Media type of every error response body (RFC 9457). */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
/** Base of problem `type` URIs; the error code is appended so each code has a documentable URI. */
export const PROBLEM_TYPE_BASE = 'https://tessera.dev/problems/';

/** RFC 9457 problem details, extended with Tessera's stable `code` and field `errors`. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  /** Stable error code, the same string as google.rpc.ErrorInfo.reason. */
  code: string;
  /** Invalid request fields, for INVALID_ARGUMENT. */
  errors?: { field: string; description: string }[];
}

/**
 * HTTP status per kind. FAILED_PRECONDITION is 422: the request is well-formed but the current state
 * forbids it (insufficient funds, frozen account), which is not a conflict to retry (409, used for
 * ALREADY_EXISTS and ABORTED) nor an HTTP conditional-request failure (412, reserved for If-Match).
 */
const KIND_TO_HTTP: Record<ErrorKind, { status: number; title: string }> = {
  INVALID_ARGUMENT: { status: 400, title: 'Bad Request' },
  UNAUTHENTICATED: { status: 401, title: 'Unauthorized' },
  PERMISSION_DENIED: { status: 403, title: 'Forbidden' },
  NOT_FOUND: { status: 404, title: 'Not Found' },
  ALREADY_EXISTS: { status: 409, title: 'Conflict' },
  ABORTED: { status: 409, title: 'Conflict' },
  FAILED_PRECONDITION: { status: 422, title: 'Unprocessable Content' },
  RESOURCE_EXHAUSTED: { status: 429, title: 'Too Many Requests' },
  INTERNAL: { status: 500, title: 'Internal Server Error' },
  UNAVAILABLE: { status: 503, title: 'Service Unavailable' },
  DEADLINE_EXCEEDED: { status: 504, title: 'Gateway Timeout' },
};

/** The HTTP status of an error kind. */
export function httpStatusOf(kind: ErrorKind): number {
  return KIND_TO_HTTP[kind].status;
}

/**
 * Maps anything thrown to an RFC 9457 response (send it with {@link PROBLEM_CONTENT_TYPE}). AppErrors keep
 * code, message and field violations; anything else becomes a generic 500 so internals never leak.
 */
export function toProblem(
  err: unknown,
  instance?: string,
): { status: number; body: ProblemDetails; contentType: typeof PROBLEM_CONTENT_TYPE } {
  const app = isAppError(err) ? err : undefined;
  const kind: ErrorKind = app?.kind ?? 'INTERNAL';
  const { status, title } = KIND_TO_HTTP[kind];
  const code = app?.code ?? INTERNAL_CODE;
  const body: ProblemDetails = {
    type: `${PROBLEM_TYPE_BASE}${code}`,
    title,
    status,
    detail: app?.message ?? INTERNAL_MESSAGE,
    code,
  };
  if (instance !== undefined) body.instance = instance;
  if (app?.fieldViolations?.length) body.errors = app.fieldViolations.map((v) => ({ ...v }));
  return { status, body, contentType: PROBLEM_CONTENT_TYPE };
}
