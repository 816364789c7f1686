import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { createDatabaseClients } from '@tessera/db';
import type { Pool } from 'pg';
import { createLogger } from '@tessera/telemetry';
import { type TransactionsConfig, TRANSACTIONS_CONFIG } from '../config';
import { PrismaClient } from '../generated/prisma/client';

/**
 * The service's one Prisma client (adapter-pg, small pool), closed on shutdown, and the node-postgres pool under it for
 * the hottest read (`AccountRepository.findById`: a named statement, see there).
 */
@Injectable()
export class PrismaService implements OnApplicationShutdown {
  private readonly logger = createLogger('PrismaService');
  readonly client: PrismaClient;
  readonly pool: Pool;

  constructor(@Inject(TRANSACTIONS_CONFIG) config: TransactionsConfig) {
    const { prisma, pool } = createDatabaseClients(PrismaClient, config.TRANSACTIONS_DATABASE_URL, {
      poolMax: config.TRANSACTIONS_DB_POOL_MAX,
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

  async onApplicationShutdown(): Promise<void> {
    await this.client.$disconnect();
  }
}
