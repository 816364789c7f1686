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
 * Prisma's codes for the same conditions: can't reach the server (P1001), its timeout (P1002), operation timed out
 * (P1008), server closed the connection (P1017), no pool connection in time (P2024), transaction could not start
 * (P2028). Prisma 7 puts the driver adapter's own error under `meta.driverAdapterError`, whose `cause.kind` says the same.
 */
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2028']);
const ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);

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
  // The cause chain, and Prisma's `meta.driverAdapterError` beside it (a raw query's P2010 only says so there).
  const pending: unknown[] = [err];
  for (let seen = 0; pending.length > 0 && seen < 8; seen++) {
    const e = pending.shift();
    if (!e || typeof e !== 'object') continue;
    const { code, message, kind, cause, meta } = e as {
      code?: unknown;
      message?: unknown;
      kind?: unknown;
      cause?: unknown;
      meta?: { driverAdapterError?: unknown };
    };
    const busy =
      (typeof code === 'string' && (PRISMA_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || SOCKET_CODES.has(code))) ||
      (typeof kind === 'string' && ADAPTER_KINDS.has(kind)) ||
      (typeof message === 'string' &&
        (message.includes('timeout exceeded when trying to connect') ||
          message.includes('Connection terminated unexpectedly') ||
          // node-postgres, a pooled client whose connection died with the server (seen once in the chaos PG restart).
          message.includes('Client has encountered a connection error and is not queryable')));
    if (busy) {
      return new AppError({
        code: DATABASE_UNAVAILABLE_CODE,
        kind: 'UNAVAILABLE',
        message: 'The database could not take this request in time; retry later (with the same Idempotency-Key for a write)',
        cause: err,
      });
    }
    pending.push(cause, meta?.driverAdapterError);
  }
  return undefined;
}
