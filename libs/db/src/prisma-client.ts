import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { injectFault } from '@tessera/telemetry';

/** Pool sizing and hooks for {@link createPrismaClient}. */
export interface PrismaClientOptions {
  /**
   * Max pg connections. Small on purpose: each service instance holds its own pool and Postgres pays ~10 MB per
   * backend, so instances × poolMax must stay under `max_connections`. Default 5.
   */
  poolMax?: number;
  /** Close idle connections after this long (ms). Default 30 s. */
  idleTimeoutMillis?: number;
  /** Fail fast instead of queueing forever when the pool is exhausted or the server is down (ms). Default 5 s. */
  connectionTimeoutMillis?: number;
  /** Called for errors on idle pooled connections (e.g. server restart); without it they would be unobserved. */
  onPoolError?: (err: Error) => void;
}

/** The constructor shape of every generated `PrismaClient` (`prisma-client` generator, driver adapters only). */
export type PrismaClientCtor<TClient> = new (options: { adapter: PrismaPg; errorFormat?: 'minimal' | 'colorless' | 'pretty' }) => TClient;

/**
 * Builds a service's generated `PrismaClient` on `@prisma/adapter-pg` (Prisma 7's query compiler + node-postgres, no
 * native query engine). Takes the constructor so this lib stays independent of any one service's generated client.
 *
 * @example
 * import { PrismaClient } from '../generated/prisma/client';
 * const prisma = createPrismaClient(PrismaClient, config.databaseUrl, { poolMax: 5 });
 */
export function createPrismaClient<TClient>(
  Ctor: PrismaClientCtor<TClient>,
  databaseUrl: string,
  options: PrismaClientOptions = {},
): TClient {
  return createDatabaseClients(Ctor, databaseUrl, options).prisma;
}

/**
 * The Prisma client of {@link createPrismaClient} and the node-postgres pool under it: one pool, so the connection
 * limit stays `poolMax`. `prisma.$disconnect()` ends the pool.
 *
 * The pool is for the few statements whose one parameter is a large JSON document (a batch expanded in SQL by
 * `jsonb_to_recordset`): Prisma's raw queries `JSON.stringify` their parameters and `JSON.parse` them back before
 * they reach node-postgres, so a 300 KB batch was escaped, copied and parsed once more on every call (issue #11:
 * ~7% of insights' CPU applying aggregates, and garbage). Through the pool it is sent as it is. Anything that runs
 * inside a Prisma transaction must stay on Prisma (the pool hands out other connections).
 */
export function createDatabaseClients<TClient>(
  Ctor: PrismaClientCtor<TClient>,
  databaseUrl: string,
  options: PrismaClientOptions = {},
): { prisma: TClient; pool: pg.Pool } {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.poolMax ?? 5,
    idleTimeoutMillis: options.idleTimeoutMillis ?? 30_000,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5_000,
    // Every session starts in READ COMMITTED, whatever the server's default: the services' transactions rely on
    // its per-statement snapshots (a blocked idempotency claim sees the winner's commit; the audit chain reads a
    // fresh head). Pinned here so callers do not pass `isolationLevel` to $transaction, which costs a
    // `SET TRANSACTION ISOLATION LEVEL` round trip on every transaction (issue #10).
    options: '-c default_transaction_isolation=read\\ committed',
  });
  // Listened to at once: the pool can be used before Prisma connects (and attaches its own listener), and an idle
  // connection's error (a server restart) with no listener is an unhandled 'error' event that ends the process.
  pool.on('error', (err) => options.onPoolError?.(err));
  withDbFault(pool);
  const adapter = new PrismaPg(pool, { disposeExternalPool: true });
  // errorFormat 'minimal': Prisma otherwise captures a call-site stack (`new Error()`, parsed on failure) on every
  // query to point its error message at the calling line: ~5% of transactions' CPU on the read path (issue #10/#12).
  // The services log and map errors by code (db.error.ts); the stack of a thrown error still shows the caller.
  return { prisma: new Ctor({ adapter, errorFormat: 'minimal' }), pool };
}

/**
 * The `db` fault point (issue #14 fault toggles, libs/telemetry faults.ts): every connection taken from the pool (Prisma's
 * queries and transactions, node-postgres statements) may be delayed, or refused as a stopped server refuses it, so a
 * demo shows the DB.UNAVAILABLE / 503 + Retry-After path without stopping PostgreSQL. Off: the pool's own connect.
 */
function withDbFault(pool: pg.Pool): void {
  type Callback = (err: Error | undefined, client?: pg.PoolClient, done?: (release?: Error | boolean) => void) => void;
  // pg's connect: a promise without a callback (Prisma's adapter), the callback form inside pool.query (node-postgres).
  const original = pool.connect.bind(pool) as (callback?: Callback) => Promise<pg.PoolClient> | undefined;
  const refused = () =>
    Object.assign(new Error('fault injected: connection to the database refused (npm run infra -- faults)'), { code: 'ECONNREFUSED' });
  const connect = (callback?: Callback): Promise<pg.PoolClient> | undefined => {
    const fault = injectFault('db', 'connect', refused);
    if (!fault) return original(callback);
    const client = fault.then(() => original() as Promise<pg.PoolClient>);
    if (!callback) return client;
    client.then(
      (c) => callback(undefined, c, (release) => c.release(release)),
      (err: Error) => callback(err, undefined, () => undefined),
    );
    return undefined;
  };
  pool.connect = connect as typeof pool.connect;
}
