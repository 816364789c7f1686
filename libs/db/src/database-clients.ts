import type pg from 'pg';
import { createLogger } from '@tessera/telemetry';
import { createDatabaseClients, type PrismaClientCtor } from './prisma-client';

/** What every generated PrismaClient has that this class uses. */
interface PrismaLike {
  $queryRawUnsafe(query: string): Promise<unknown>;
  $disconnect(): Promise<void>;
}

/**
 * A service's database access: its one Prisma client (adapter-pg, small pool) and the node-postgres pool under it, a
 * health ping and a close. Each service's `PrismaService` extends it with its config (issue #16: the class was
 * copied into three services); Nest calls `onApplicationShutdown`.
 */
export class DatabaseClients<TClient extends PrismaLike> {
  private readonly logger = createLogger('PrismaService');
  readonly client: TClient;
  /** The pool under `client`, for the few reads that skip Prisma (named statements, one large JSON parameter). */
  readonly pool: pg.Pool;

  constructor(Ctor: PrismaClientCtor<TClient>, databaseUrl: string, poolMax?: number) {
    const { prisma, pool } = createDatabaseClients(Ctor, databaseUrl, {
      ...(poolMax === undefined ? {} : { poolMax }),
      onPoolError: (err) => this.logger.warn({ err: err.message }, 'idle database connection failed'),
    });
    this.client = prisma;
    this.pool = pool;
  }

  /** True when the database answers a trivial query. */
  async ping(): Promise<boolean> {
    try {
      await this.client.$queryRawUnsafe('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  /** Ends the client and its pool. */
  async onApplicationShutdown(): Promise<void> {
    await this.client.$disconnect();
  }
}
