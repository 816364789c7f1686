import { existsSync } from 'node:fs';
import path from 'node:path';
import { DbError } from './db.error';

/** Where a service keeps its Prisma schema and migrations, and how it finds its database. */
export interface ServiceDatabase {
  service: string;
  schemaPath: string;
  migrationsDir: string;
  /** `<SERVICE>_DATABASE_URL`, e.g. TRANSACTIONS_DATABASE_URL. */
  envVar: string;
  databaseUrl: string;
}

/** Repo root: this file lives at libs/db/{src,dist}/. */
const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/**
 * Resolves `services/<service>/prisma/{schema.prisma,migrations}` and the database URL from `<SERVICE>_DATABASE_URL`,
 * defaulting to the local topology (`tessera_<service>` on 127.0.0.1:55432) so a fresh clone needs no env setup.
 */
export function serviceDatabase(service: string, env: NodeJS.ProcessEnv = process.env): ServiceDatabase {
  if (!/^[a-z][a-z0-9-]*$/.test(service)) throw new DbError('DB.BAD_SERVICE', `not a service name: ${service}`);
  const prismaDir = path.join(REPO_ROOT, 'services', service, 'prisma');
  const schemaPath = path.join(prismaDir, 'schema.prisma');
  if (!existsSync(schemaPath)) throw new DbError('DB.SCHEMA_MISSING', `service ${service} has no ${path.relative(REPO_ROOT, schemaPath)}`);
  const envVar = `${service.toUpperCase().replace(/-/g, '_')}_DATABASE_URL`;
  const databaseUrl = env[envVar] || `postgresql://tessera:tessera@127.0.0.1:55432/tessera_${service.replace(/-/g, '_')}`;
  return { service, schemaPath, migrationsDir: path.join(prismaDir, 'migrations'), envVar, databaseUrl };
}
