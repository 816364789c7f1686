import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { DatabaseClients } from '@tessera/db';
import { type TransactionsConfig, TRANSACTIONS_CONFIG } from '../config';
import { PrismaClient } from '../generated/prisma/client';

/**
 * The service's one Prisma client and the node-postgres pool under it (the hottest read, `AccountRepository.findById`, uses the pool: a named statement), closed on shutdown
 * (@tessera/db `DatabaseClients`).
 */
@Injectable()
export class PrismaService extends DatabaseClients<PrismaClient> implements OnApplicationShutdown {
  constructor(@Inject(TRANSACTIONS_CONFIG) config: TransactionsConfig) {
    super(PrismaClient, config.TRANSACTIONS_DATABASE_URL, config.TRANSACTIONS_DB_POOL_MAX);
  }
}
