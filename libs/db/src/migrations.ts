import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { DbError, redactUrls } from './db.error';
import { NO_FILTER, type HistoryDiagnostic, type MigrationList, withSchemaEngine } from './schema-engine';

/** Progress callback for long-running commands (the CLI prints these lines). */
export type ProgressFn = (message: string) => void;

/**
 * Reads a Prisma migrations folder (`<ts>_<name>/migration.sql` + `migration_lock.toml`) the way the Prisma CLI does,
 * so the engine computes the same checksums and names.
 */
export function loadMigrations(migrationsDir: string): MigrationList {
  const baseDir = path.resolve(migrationsDir);
  if (!existsSync(baseDir)) throw new DbError('DB.MIGRATIONS_DIR_MISSING', `migrations folder not found: ${baseDir}`);
  const lockPath = path.join(baseDir, 'migration_lock.toml');
  const migrationDirectories = readdirSync(baseDir)
    .filter((entry) => statSync(path.join(baseDir, entry)).isDirectory())
    .sort()
    .map((entry) => {
      const file = path.join(baseDir, entry, 'migration.sql');
      const content = existsSync(file)
        ? ({ tag: 'ok', value: readFileSync(file, 'utf8') } as const)
        : ({ tag: 'error', value: `${file} does not exist` } as const);
      return { path: entry, migrationFile: { path: 'migration.sql', content } };
    });
  return {
    baseDir,
    lockfile: { path: 'migration_lock.toml', content: existsSync(lockPath) ? readFileSync(lockPath, 'utf8') : null },
    shadowDbInitScript: '',
    migrationDirectories,
  };
}

/**
 * Applies every pending migration in `migrationsDir` to `databaseUrl` — what `prisma migrate deploy` does, with the
 * same engine: it takes Prisma's advisory lock, records each migration in `_prisma_migrations` (sha256 checksum,
 * timestamps, applied_steps_count), and refuses to continue past a failed or edited migration.
 * @returns the names of the migrations applied by this call (empty when already up to date).
 */
export async function migrate(databaseUrl: string, migrationsDir: string, onProgress: ProgressFn = () => undefined): Promise<string[]> {
  const migrationsList = loadMigrations(migrationsDir);
  onProgress(
    `${migrationsList.migrationDirectories.length} migration(s) found in ${path.relative(process.cwd(), migrationsList.baseDir) || '.'}`,
  );
  return withSchemaEngine({ databaseUrl }, async (engine) => {
    let applied: string[];
    try {
      ({ appliedMigrationNames: applied } = await engine.applyMigrations({ migrationsList, filters: NO_FILTER }));
    } catch (err) {
      throw DbError.fromEngine('DB.MIGRATION_FAILED', 'applying migrations failed', err);
    }
    for (const name of applied) onProgress(`applied ${name}`);
    onProgress(applied.length === 0 ? 'database is up to date, nothing to apply' : `${applied.length} migration(s) applied`);
    return applied;
  });
}

/** What `prisma migrate status` reports. */
export interface MigrationStatus {
  hasMigrationsTable: boolean;
  /** In the folder, not yet in the database. */
  pending: string[];
  /** In the database, missing from the folder (someone deleted or renamed one). */
  unknownToFolder: string[];
  failed: string[];
  /** Applied, but the file's checksum no longer matches: never edit an applied migration. */
  edited: string[];
  upToDate: boolean;
}

/** Compares the migrations folder with `_prisma_migrations` without changing anything. */
export async function migrationStatus(databaseUrl: string, migrationsDir: string): Promise<MigrationStatus> {
  const migrationsList = loadMigrations(migrationsDir);
  return withSchemaEngine({ databaseUrl }, async (engine) => {
    const out = await engine
      .diagnoseMigrationHistory({ migrationsList, optInToShadowDatabase: false, filters: NO_FILTER })
      .catch((err: unknown) => {
        throw DbError.fromEngine('DB.STATUS_FAILED', 'reading migration history failed', err);
      });
    const { pending, unknownToFolder } = splitHistory(out.history);
    return {
      hasMigrationsTable: out.hasMigrationsTable,
      pending,
      unknownToFolder,
      failed: out.failedMigrationNames,
      edited: out.editedMigrationNames,
      upToDate: out.history === null && out.failedMigrationNames.length === 0 && out.editedMigrationNames.length === 0,
    };
  });
}

function splitHistory(history: HistoryDiagnostic | null): { pending: string[]; unknownToFolder: string[] } {
  if (!history) return { pending: [], unknownToFolder: [] };
  switch (history.diagnostic) {
    case 'databaseIsBehind':
      return { pending: history.unappliedMigrationNames, unknownToFolder: [] };
    case 'migrationsDirectoryIsBehind':
      return { pending: [], unknownToFolder: history.unpersistedMigrationNames };
    case 'historiesDiverge':
      return { pending: history.unappliedMigrationNames, unknownToFolder: history.unpersistedMigrationNames };
  }
}

function readSchema(schemaPath: string): { path: string; content: string } {
  if (!existsSync(schemaPath)) throw new DbError('DB.SCHEMA_MISSING', `Prisma schema not found: ${schemaPath}`);
  return { path: path.basename(schemaPath), content: readFileSync(schemaPath, 'utf8') };
}

/**
 * The SQL that would take the migrations folder to what `schema.prisma` declares — `prisma migrate diff
 * --from-migrations --to-schema --script`. Empty string when they agree. Replays the migrations in a temporary shadow
 * database on the server of `databaseUrl` (created and dropped for the call).
 */
export async function diffMigrationsToSchema(databaseUrl: string, migrationsDir: string, schemaPath: string): Promise<string> {
  const schema = readSchema(schemaPath);
  const migrationsList = loadMigrations(migrationsDir);
  return withSchemaEngine({ databaseUrl, schema }, async (engine) => {
    const out = await engine
      .diff({
        from: { tag: 'migrations', ...migrationsList },
        to: { tag: 'schemaDatamodel', files: [schema] },
        script: true,
        exitCode: null,
        filters: NO_FILTER,
      })
      .catch((err: unknown) => {
        throw DbError.fromEngine('DB.DIFF_FAILED', 'diffing migrations against the schema failed', err);
      });
    return emptyDiffToBlank(out.stdout ?? '');
  });
}

/**
 * Drift check: the SQL that would take the live database at `databaseUrl` to what `schema.prisma` declares. Empty when
 * the database matches the schema (Prisma ignores what it does not model: CHECKs, triggers, functions).
 */
export async function diffDatabaseToSchema(databaseUrl: string, schemaPath: string): Promise<string> {
  const schema = readSchema(schemaPath);
  return withSchemaEngine({ databaseUrl, schema }, async (engine) => {
    const out = await engine
      .diff({
        from: { tag: 'schemaDatasource', files: [schema], configDir: path.dirname(path.resolve(schemaPath)) },
        to: { tag: 'schemaDatamodel', files: [schema] },
        script: true,
        exitCode: null,
        filters: NO_FILTER,
      })
      .catch((err: unknown) => {
        throw DbError.fromEngine('DB.DIFF_FAILED', 'diffing the database against the schema failed', err);
      });
    return emptyDiffToBlank(out.stdout ?? '');
  });
}

/** The engine prints this comment for an empty script. */
function emptyDiffToBlank(sql: string): string {
  return sql.trim() === '-- This is an empty migration.' ? '' : sql;
}

/** Creates the database named in `databaseUrl` if it does not exist (connecting to the server's `postgres` db). */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new DbError('DB.BAD_DATABASE_NAME', `unsupported database name: ${name}`);
  url.pathname = '/postgres';
  const admin = new Client({ connectionString: url.toString() });
  try {
    await admin.connect();
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return false;
    await admin.query(`CREATE DATABASE "${name}"`);
    return true;
  } catch (err) {
    throw new DbError('DB.UNAVAILABLE', `cannot reach Postgres at ${url.host}: ${redactUrls(String((err as Error).message ?? err))}`, {
      cause: err,
    });
  } finally {
    await admin.end().catch(() => undefined);
  }
}
