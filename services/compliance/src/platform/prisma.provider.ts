import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { DatabaseClients } from '@tessera/db';
import { type ComplianceConfig, COMPLIANCE_CONFIG } from '../config';
import { PrismaClient } from '../generated/prisma/client';

/**
 * The service's one Prisma client and the node-postgres pool under it, closed on shutdown
 * (@tessera/db `DatabaseClients`).
 */
@Injectable()
export class PrismaService extends DatabaseClients<PrismaClient> implements OnApplicationShutdown {
  constructor(@Inject(COMPLIANCE_CONFIG) config: ComplianceConfig) {
    super(PrismaClient, config.COMPLIANCE_DATABASE_URL, config.COMPLIANCE_DB_POOL_MAX);
  }
}
