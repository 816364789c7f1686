import { AppError } from './app-error';

/** Code of a request refused because its database could not serve it in time; retrying later is the remedy. */
export const DATABASE_UNAVAILABLE_CODE = 'DB.UNAVAILABLE';

/**
 * SQLSTATEs (node-postgres puts them on `code`) of a server that cannot take the work now: too many connections,
 * shutting down, starting up, connection lost.
 */
const UNAVAILABLE_SQLSTATES = new Set(['53300', '57P01', '57P02', '57P03', '08000', '08003', '08006']);
/** Socket errors of an unreachable or restarting database. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

/**
 * The typed refusal for a failure of the database *connection* rather than of the work: the pool had no connection
 * within its wait (pg-pool "timeout exceeded when trying to connect"; Prisma P2028 "Unable to start a transaction in
 * the given time", or its interactive transaction expiring), or the server refused or dropped the connection. Mostly
 * the transaction never started or was rolled back; when a connection drops during COMMIT the outcome is unknown, and
 * the idempotency key settles it: a retry with the same key ends in the committed result or a definite refusal. So:
 * UNAVAILABLE (gRPC 14, HTTP 503, retry later), not the INTERNAL a bug gets. Undefined for anything else, which stays a bug. Recognised by the drivers' stable codes and
 * messages, the cause chain included (Prisma's driver adapter wraps node-postgres' error).
 */
export function databaseUnavailable(err: unknown): AppError | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    const busy =
      code === 'P2028' ||
      (typeof code === 'string' && (UNAVAILABLE_SQLSTATES.has(code) || SOCKET_CODES.has(code))) ||
      (typeof message === 'string' && (message.includes('timeout exceeded when trying to connect') || message.includes('Connection terminated unexpectedly')));
    if (busy) {
      return new AppError({
        code: DATABASE_UNAVAILABLE_CODE,
        kind: 'UNAVAILABLE',
        message: 'The database could not take this request in time; retry later (with the same Idempotency-Key for a write)',
        cause: err,
      });
    }
  }
  return undefined;
}
