import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { DatabaseClients } from '@tessera/db';
import { type InsightsConfig, INSIGHTS_CONFIG } from '../config';
import { PrismaClient } from '../generated/prisma/client';

/**
 * The service's one Prisma client and the node-postgres pool under it (the read model's batch upsert uses the pool: one large JSON parameter, which Prisma's raw queries would serialise twice), closed on shutdown
 * (@tessera/db `DatabaseClients`).
 */
@Injectable()
export class PrismaService extends DatabaseClients<PrismaClient> implements OnApplicationShutdown {
  constructor(@Inject(INSIGHTS_CONFIG) config: InsightsConfig) {
    super(PrismaClient, config.INSIGHTS_DATABASE_URL, config.INSIGHTS_DB_POOL_MAX);
  }
}
