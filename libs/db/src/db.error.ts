/**
 * Errors raised by `@tessera/db`. `code` is stable (`DB.*`) so callers and the CLI can branch on it; messages name the
 * migration or setting at fault but never contain connection strings (they carry the password).
 */
export class DbError extends Error {
  override readonly name = 'DbError';

  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Wraps an error thrown by the wasm schema engine, whose messages are Prisma's (e.g. `P3018` + the failing SQL). */
  static fromEngine(code: string, what: string, err: unknown): DbError {
    const detail = engineMessage(err);
    return new DbError(code, detail ? `${what}: ${detail}` : what, { cause: err });
  }
}

function engineMessage(err: unknown): string {
  if (err instanceof Error) return redactUrls(err.message);
  if (typeof err === 'string') return redactUrls(err);
  if (err && typeof err === 'object' && 'message' in err) return redactUrls(String((err as { message: unknown }).message));
  return '';
}

/** Strips credentials from any postgres URL that an underlying error might echo. */
export function redactUrls(text: string): string {
  return text.replace(/(postgres(?:ql)?:\/\/)[^@\s/]+@/g, '$1***@');
}
