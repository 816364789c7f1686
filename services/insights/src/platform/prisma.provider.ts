import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { createPrismaClient } from '@tessera/db';
import { createLogger } from '@tessera/telemetry';
import { type InsightsConfig, INSIGHTS_CONFIG } from '../config';
import { PrismaClient } from '../generated/prisma/client';

/** The service's one Prisma client (adapter-pg, small pool), closed on shutdown. */
@Injectable()
export class PrismaService implements OnApplicationShutdown {
  private readonly logger = createLogger('PrismaService');
  readonly client: PrismaClient;

  constructor(@Inject(INSIGHTS_CONFIG) config: InsightsConfig) {
    this.client = createPrismaClient(PrismaClient, config.INSIGHTS_DATABASE_URL, {
      poolMax: config.INSIGHTS_DB_POOL_MAX,
      onPoolError: (err) => this.logger.warn({ err: err.message }, 'idle database connection failed'),
    });
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
