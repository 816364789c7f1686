/**
 * Database CLI, Prisma's schema engine (wasm) underneath; see docs/prisma.md.
 *   npx tsx libs/db/src/cli.ts migrate --service transactions     apply pending migrations (creates the db if missing)
 *   npx tsx libs/db/src/cli.ts migrate --all                      the same for every service with a prisma/schema.prisma
 *   npx tsx libs/db/src/cli.ts status  --service transactions     pending / failed / edited migrations; exit 1 unless up to date
 *   npx tsx libs/db/src/cli.ts drift   --service transactions     diff live db vs schema.prisma; exit 1 on drift
 *   npx tsx libs/db/src/cli.ts diff    --service transactions [--create <name>]
 *       SQL from the migrations folder to schema.prisma (uses a shadow db); --create writes it as a new migration
 * The database URL comes from <SERVICE>_DATABASE_URL (default: the local topology).
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DbError, redactUrls } from './db.error';
import { diffDatabaseToSchema, diffMigrationsToSchema, ensureDatabase, migrate, migrationStatus } from './migrations';
import { serviceDatabase } from './service-database';

const log = (message: string): void => void process.stderr.write(`[db] ${message}\n`);

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      service: { type: 'string', short: 's' },
      all: { type: 'boolean' },
      create: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0];
  if (values.help || !command || (!values.service && !values.all) || (values.all && command === 'diff')) {
    process.stderr.write(
      'usage: cli.ts <migrate|status|drift> (--service <name> | --all)\n       cli.ts diff --service <name> [--create <migration_name>]\n',
    );
    return values.help ? 0 : 2;
  }
  if (values.all) {
    // Every service with a Prisma schema, in name order; the worst exit code wins.
    let worst = 0;
    for (const service of servicesWithSchemas()) worst = Math.max(worst, await run(command, service, values.create));
    return worst;
  }
  return run(command, values.service ?? '', values.create);
}

/** services/<name>/prisma/schema.prisma, for --all. */
function servicesWithSchemas(): string[] {
  const servicesDir = path.resolve(__dirname, '..', '..', '..', 'services');
  return readdirSync(servicesDir)
    .filter((name) => existsSync(path.join(servicesDir, name, 'prisma', 'schema.prisma')))
    .sort();
}

async function run(command: string, service: string, create: string | undefined): Promise<number> {
  const values = { create };
  const db = serviceDatabase(service);
  const where = `${db.service} (${redactUrls(db.databaseUrl)})`;
  switch (command) {
    case 'migrate': {
      if (await ensureDatabase(db.databaseUrl)) log(`created database for ${where}`);
      log(`migrating ${where}`);
      await migrate(db.databaseUrl, db.migrationsDir, log);
      return 0;
    }
    case 'status': {
      const s = await migrationStatus(db.databaseUrl, db.migrationsDir);
      log(`${where}: ${s.upToDate ? 'up to date' : 'NOT up to date'}`);
      for (const [label, names] of Object.entries({
        pending: s.pending,
        failed: s.failed,
        edited: s.edited,
        'not in folder': s.unknownToFolder,
      })) {
        for (const name of names) log(`  ${label}: ${name}`);
      }
      return s.upToDate ? 0 : 1;
    }
    case 'drift': {
      const sql = await diffDatabaseToSchema(db.databaseUrl, db.schemaPath);
      if (!sql) {
        log(`${where} matches schema.prisma`);
        return 0;
      }
      process.stdout.write(sql);
      log(`DRIFT: the SQL above would make ${where} match schema.prisma`);
      return 1;
    }
    case 'diff': {
      const sql = await diffMigrationsToSchema(db.databaseUrl, db.migrationsDir, db.schemaPath);
      if (!sql) {
        log('migrations already produce schema.prisma; nothing to write');
        return 0;
      }
      if (!values.create) {
        process.stdout.write(sql);
        return 0;
      }
      if (!/^[a-z0-9_]+$/.test(values.create)) throw new DbError('DB.BAD_MIGRATION_NAME', 'migration name must be snake_case');
      const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
      const dir = path.join(db.migrationsDir, `${stamp}_${values.create}`);
      mkdirSync(dir);
      writeFileSync(path.join(dir, 'migration.sql'), sql);
      log(`wrote ${path.relative(process.cwd(), dir)}/migration.sql; review it, then run migrate`);
      return 0;
    }
    default:
      throw new DbError('DB.BAD_COMMAND', `unknown command: ${command}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const code = err instanceof DbError ? err.code : 'DB.UNEXPECTED';
    log(`${code}: ${redactUrls(err instanceof Error ? err.message : String(err))}`);
    process.exit(1);
  },
);
