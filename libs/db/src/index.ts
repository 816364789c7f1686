export { DbError } from './db.error';
export { DatabaseClients } from './database-clients';
export { createDatabaseClients, createPrismaClient, type PrismaClientCtor, type PrismaClientOptions } from './prisma-client';
export { retryableSqlState, withSerializableRetry, type SerializableRetryOptions } from './serializable-retry';
export {
  diffDatabaseToSchema,
  diffMigrationsToSchema,
  ensureDatabase,
  loadMigrations,
  migrate,
  migrationStatus,
  type MigrationStatus,
  type ProgressFn,
} from './migrations';
export { dropDatabase } from './drop-database';
export { OutboxPruner, pruneSentOutbox } from './outbox-retention';
export { serviceDatabase, type ServiceDatabase } from './service-database';
export { AdmissionGate } from './admission-gate';
export { Coalescer, type CoalescerOptions, linkToActiveSpan, traceSharedWork } from './coalescer';
