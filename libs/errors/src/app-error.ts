/** What went wrong, in gRPC's vocabulary; decides the gRPC status code and the HTTP status. */
export type ErrorKind =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'ABORTED'
  | 'PERMISSION_DENIED'
  | 'UNAUTHENTICATED'
  | 'RESOURCE_EXHAUSTED'
  | 'UNAVAILABLE'
  | 'DEADLINE_EXCEEDED'
  | 'INTERNAL';

/** Every ErrorKind, e.g. for validation of values read off the wire. */
export const ERROR_KINDS: readonly ErrorKind[] = [
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'FAILED_PRECONDITION',
  'ABORTED',
  'PERMISSION_DENIED',
  'UNAUTHENTICATED',
  'RESOURCE_EXHAUSTED',
  'UNAVAILABLE',
  'DEADLINE_EXCEEDED',
  'INTERNAL',
];

/** One invalid request field (google.rpc.BadRequest.FieldViolation on the wire). */
export interface FieldViolation {
  /** Path to the field, e.g. `amount.currency`. */
  field: string;
  /** Why the value is invalid; safe to show to the caller. */
  description: string;
}

/** Constructor input of {@link AppError}. */
export interface AppErrorOptions {
  /** Stable, documented code `DOMAIN.REASON`, e.g. `PAYMENTS.INSUFFICIENT_FUNDS`. Clients branch on it. */
  code: string;
  kind: ErrorKind;
  /** Human-readable and safe to return to callers: no PII, secrets or internals. */
  message: string;
  /** Safe structured context (ids, limits); travels in google.rpc.ErrorInfo.metadata. */
  metadata?: Record<string, string>;
  fieldViolations?: FieldViolation[];
  /** The underlying error, kept for logs only; never serialised to callers. */
  cause?: unknown;
}

/**
 * The one error type Tessera code throws on purpose. Everything a caller may see (code, kind, message,
 * metadata, field violations) is safe by construction; anything else thrown is treated as a bug and
 * reported as a generic INTERNAL error by toGrpcStatus/toProblem.
 */
export class AppError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly metadata: Record<string, string>;
  readonly fieldViolations?: FieldViolation[];

  constructor(options: AppErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = options.code;
    this.kind = options.kind;
    this.metadata = { ...(options.metadata ?? {}) };
    if (options.fieldViolations && options.fieldViolations.length > 0) {
      this.fieldViolations = options.fieldViolations.map((v) => ({ field: v.field, description: v.description }));
    }
  }
}

/** True for AppError instances (also across duplicated module copies, by shape). */
export function isAppError(err: unknown): err is AppError {
  if (err instanceof AppError) return true;
  if (!(err instanceof Error)) return false;
  const candidate = err as Partial<AppError>;
  return (
    err.name === 'AppError' &&
    typeof candidate.code === 'string' &&
    typeof candidate.kind === 'string' &&
    (ERROR_KINDS as readonly string[]).includes(candidate.kind) &&
    typeof candidate.metadata === 'object'
  );
}

/** Code and message used for anything that is not an AppError, so internals never leak. */
export const INTERNAL_CODE = 'INTERNAL.UNEXPECTED';
export const INTERNAL_MESSAGE = 'An unexpected error occurred';
