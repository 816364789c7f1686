import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  bindMigrationAwareSqlAdapterFactory,
  DriverAdapterError,
  ColumnTypeEnum,
  type SqlDriverAdapter,
  type SqlQuery,
  type SqlResultSet,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { DbError } from './db.error';
import { dropDatabaseVia } from './drop-database';

/**
 * Prisma's schema engine compiled to WebAssembly (`@prisma/schema-engine-wasm`), driven through `@prisma/adapter-pg`.
 *
 * Why: Prisma 7's CLI runs `migrate`/`db` commands only on the native schema-engine binary, which it downloads on
 * first use; that download is impossible on this offline machine. The same engine (same Rust code, same commit)
 * ships as wasm on npm and talks to Postgres through a driver adapter, so migrations, `_prisma_migrations`
 * bookkeeping and diffs are Prisma's own, not a re-implementation. See docs/prisma.md.
 */

/** The subset of the engine's API we use; mirrors `@prisma/schema-engine-wasm`'s `SchemaEngine` declarations. */
export interface WasmSchemaEngine {
  applyMigrations(input: { migrationsList: MigrationList; filters: SchemaFilter }): Promise<{ appliedMigrationNames: string[] }>;
  diagnoseMigrationHistory(input: { migrationsList: MigrationList; optInToShadowDatabase: boolean; filters: SchemaFilter }): Promise<{
    history: HistoryDiagnostic | null;
    failedMigrationNames: string[];
    editedMigrationNames: string[];
    hasMigrationsTable: boolean;
  }>;
  diff(params: {
    from: DiffTarget;
    to: DiffTarget;
    script: boolean;
    exitCode: boolean | null;
    filters: SchemaFilter;
  }): Promise<{ exitCode: number; stdout: string | null }>;
  free(): void;
}

export interface SchemaFilter {
  externalTables: string[];
  externalEnums: string[];
}
export interface MigrationList {
  baseDir: string;
  lockfile: { path: string; content: string | null };
  shadowDbInitScript: string;
  migrationDirectories: {
    path: string;
    migrationFile: { path: string; content: { tag: 'ok'; value: string } | { tag: 'error'; value: string } };
  }[];
}
export type HistoryDiagnostic =
  | { diagnostic: 'databaseIsBehind'; unappliedMigrationNames: string[] }
  | { diagnostic: 'migrationsDirectoryIsBehind'; unpersistedMigrationNames: string[] }
  | {
      diagnostic: 'historiesDiverge';
      lastCommonMigrationName: string | null;
      unpersistedMigrationNames: string[];
      unappliedMigrationNames: string[];
    };
export type DiffTarget =
  | { tag: 'empty' }
  | ({ tag: 'schemaDatamodel' } & { files: { path: string; content: string }[] })
  | ({ tag: 'migrations' } & MigrationList)
  /** The live database the engine is connected to (the CLI's `--from-config-datasource`). */
  | ({ tag: 'schemaDatasource' } & { files: { path: string; content: string }[]; configDir: string });

export const NO_FILTER: SchemaFilter = { externalTables: [], externalEnums: [] };

interface WasmBindings {
  __wbg_set_wasm(exports: Record<string, unknown>): void;
  SchemaEngine: {
    new: (
      options: { datamodels: [string, string][] | undefined },
      log: (message: string) => void,
      adapter: object,
    ) => Promise<WasmSchemaEngine>;
  };
}

let bindings: WasmBindings | undefined;

/** Node has WebAssembly; the `node` typings (without lib.dom) just do not declare it. */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, object>) => { exports: Record<string, unknown> };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

const PG_CHAR_OID = 18; // the internal one-byte "char" type of pg_catalog columns such as pg_constraint.contype
const PG_TEXT_OID = 25;
/** Appended to the name of a "char" column on its way through adapter-pg, so we can retype it afterwards. */
const CHAR_MARK = '\u0000pgchar';
type QueryResultLike = { fields?: { dataTypeID: number; name: string }[] };

function markCharColumns<T>(result: T): T {
  for (const field of (result as QueryResultLike | undefined)?.fields ?? []) {
    if (field.dataTypeID === PG_CHAR_OID) {
      field.dataTypeID = PG_TEXT_OID;
      field.name += CHAR_MARK;
    }
  }
  return result;
}

/** Undoes {@link markCharColumns} on adapter-pg's result: the engine's describer wants these as `Character`. */
function retypeCharColumns(result: SqlResultSet): SqlResultSet {
  if (!result.columnNames.some((n) => n.endsWith(CHAR_MARK))) return result;
  return {
    ...result,
    columnNames: result.columnNames.map((n) => (n.endsWith(CHAR_MARK) ? n.slice(0, -CHAR_MARK.length) : n)),
    columnTypes: result.columnTypes.map((t, i) => (result.columnNames[i]?.endsWith(CHAR_MARK) ? ColumnTypeEnum.Character : t)),
  };
}

/**
 * adapter-pg 7.10 rejects result columns of type "char" (OID 18) as unsupported, and the engine's schema describer
 * reads several (constraint and index kinds), so diffs against a live database failed. This connection class lets
 * them through as text, marked, and {@link wholeScriptAdapter} hands them to the engine as `Character`.
 * Used only for the engine's own pool.
 */
class CharAsTextClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    const original = this.query.bind(this) as (...args: unknown[]) => unknown;
    const patched = (...args: unknown[]): unknown => {
      const cbIndex = args.findIndex((a) => typeof a === 'function');
      if (cbIndex >= 0) {
        const cb = args[cbIndex] as (err: Error | null, res: unknown) => void;
        args[cbIndex] = (err: Error | null, res: unknown) => cb(err, err ? res : markCharColumns(res));
        return original(...args);
      }
      const out = original(...args);
      return out instanceof Promise ? out.then(markCharColumns) : out;
    };
    Object.defineProperty(this, 'query', { value: patched });
  }
}

/** The engine must come from the same engines commit as the installed `prisma`; a mismatch is refused, not guessed at. */
function expectedEngineVersion(): string {
  const enginesPkg = require('@prisma/engines/package.json') as { dependencies: Record<string, string> };
  return enginesPkg.dependencies['@prisma/engines-version'] ?? '';
}

/**
 * Loads wasm-bindgen's glue module. It is ESM-only (`export function …` / `export class …`, no imports), which Jest
 * on Node 20 cannot require; rather than a loader that differs between Node, tsx and Jest, we evaluate it the same
 * way everywhere as a function body returning its exports. The exact package version is pinned and checked above.
 */
function loadGlue(file: string): WasmBindings {
  const source = readFileSync(file, 'utf8');
  const names = [...source.matchAll(/^export (?:function|class) ([A-Za-z0-9_$]+)/gm)].map((m) => m[1]);
  const body = source.replace(/^export (function|class) /gm, '$1 ');
  if (/^\s*(import|export)\b/m.test(body) || !names.includes('SchemaEngine')) {
    throw new DbError('DB.SCHEMA_ENGINE_LOAD_FAILED', `unexpected module shape in ${file}; update loadGlue for this engine version`);
  }
  // The engine arms a 10 s timer around its advisory lock and never clears it; unref'd, it cannot hold the process open.
  const setTimeoutUnref = (fn: () => void, ms?: number): NodeJS.Timeout => setTimeout(fn, ms).unref();
  return new Function('setTimeout', `${body}\nreturn { ${names.join(', ')} };`)(setTimeoutUnref) as WasmBindings;
}

function loadBindings(): WasmBindings {
  if (bindings) return bindings;
  // The package exports no ./package.json; find it beside the bindings file.
  const bgPath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
  const pkgDir = path.dirname(bgPath);
  const { version } = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { version: string };
  const expected = expectedEngineVersion();
  if (version !== expected) {
    throw new DbError(
      'DB.SCHEMA_ENGINE_VERSION_MISMATCH',
      `@prisma/schema-engine-wasm ${version} does not match the installed Prisma engines ${expected}; ` +
        `run: npm i -D -E @prisma/schema-engine-wasm@${expected}`,
    );
  }
  // The package's entry imports the .wasm as an ES module, which Node 20 cannot do; instantiate it by hand instead.
  // wasm-bindgen panics report through this global (the Prisma CLI installs the same); without it a panic is a TypeError.
  const registry = globalThis as unknown as { PRISMA_WASM_PANIC_REGISTRY?: { get(): string; set_message(m: string): void } };
  if (!registry.PRISMA_WASM_PANIC_REGISTRY) {
    let message = '';
    registry.PRISMA_WASM_PANIC_REGISTRY = { get: () => message, set_message: (m: string) => void (message = `RuntimeError: ${m}`) };
  }
  const bg = loadGlue(bgPath);
  const wasmModule = new wasmApi.Module(readFileSync(path.join(pkgDir, 'schema_engine_bg.wasm')));
  const instance = new wasmApi.Instance(wasmModule, { './schema_engine_bg.js': bg });
  bg.__wbg_set_wasm(instance.exports);
  (instance.exports['__wbindgen_start'] as () => void)();
  bindings = bg;
  return bg;
}

/** Engine options. `schema` is the Prisma schema text when a command needs the datamodel (diffs, drift). */
export interface OpenSchemaEngineOptions {
  databaseUrl: string;
  schema?: { path: string; content: string };
  log?: (message: string) => void;
}

/**
 * Runs `fn` with a schema engine connected to `databaseUrl`, then frees it. A shadow database, when a command needs
 * one (diffing from a migrations folder), is created and dropped by adapter-pg: the role needs CREATEDB.
 */
export async function withSchemaEngine<T>(options: OpenSchemaEngineOptions, fn: (engine: WasmSchemaEngine) => Promise<T>): Promise<T> {
  const wasm = loadBindings();
  const factory = engineAdapterFactory(options.databaseUrl);
  const adapter = bindMigrationAwareSqlAdapterFactory(factory);
  const datamodels: [string, string][] | undefined = options.schema ? [[options.schema.path, options.schema.content]] : undefined;
  let engine: WasmSchemaEngine;
  try {
    engine = await wasm.SchemaEngine.new({ datamodels }, options.log ?? (() => undefined), adapter);
  } catch (err) {
    await factory.close();
    throw DbError.fromEngine('DB.SCHEMA_ENGINE_START_FAILED', 'could not start the Prisma schema engine', err);
  }
  try {
    return await fn(engine);
  } finally {
    engine.free();
    await factory.close(); // the engine does not dispose the connections it opened; leaving them would hold the process open
  }
}

/**
 * adapter-pg's factory with two fixes the wasm engine needs (adapter-pg 7.10 lost its migrate test coverage when the
 * CLI dropped driver-adapter migrations):
 * - `executeScript` splits scripts on every `;`, which breaks `$$` function bodies and runs a migration as separate
 *   autocommitted statements. We send the script as ONE simple query instead, exactly like the native engine: Postgres
 *   runs it as one implicit transaction, so a failing migration leaves nothing half-applied.
 * - result columns of Postgres' internal "char" type are rejected as unsupported (see {@link CharAsTextClient}).
 * - `connectToShadowDb` overrides `database` in the pool config, which a `connectionString` silently wins over, so
 *   the "shadow" replay would hit the real database. We pass discrete connection fields.
 */
function engineAdapterFactory(databaseUrl: string): SqlMigrationAwareDriverAdapterFactory & { close(): Promise<void> } {
  const fields = connectionFields(databaseUrl);
  // One connection, like the native engine: its session advisory lock then covers every statement of the run.
  const inner = new PrismaPg({ ...fields, max: 1, Client: CharAsTextClient });
  const open = new Set<SqlDriverAdapter>();
  const track = (adapter: SqlDriverAdapter): SqlDriverAdapter => {
    open.add(adapter);
    return adapter;
  };
  return {
    provider: inner.provider,
    adapterName: inner.adapterName,
    close: async () => {
      const adapters = [...open];
      open.clear();
      await Promise.allSettled(adapters.map((a) => a.dispose()));
    },
    connect: async () => track(wholeScriptAdapter(await inner.connect())),
    connectToShadowDb: async () => {
      const name = `prisma_migrate_shadow_db_${randomUUID().replace(/-/g, '')}`;
      await adminQuery(fields, `CREATE DATABASE "${name}"`);
      const shadow = await new PrismaPg({ ...fields, database: name, max: 1, Client: CharAsTextClient }).connect();
      // Close our pool before dropping (adapter-pg drops first, which fails while its own pool is connected).
      let dropped: Promise<void> | undefined;
      return track(wholeScriptAdapter(shadow, () => (dropped ??= shadow.dispose().then(() => dropDatabaseVia(fields, name)))));
    },
  };
}

async function adminQuery(fields: pg.PoolConfig, sql: string): Promise<void> {
  const client = new pg.Client(fields);
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function connectionFields(databaseUrl: string): pg.PoolConfig {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch (err) {
    throw new DbError('DB.BAD_URL', 'database URL is not a valid postgresql:// URL', { cause: err });
  }
  const sslmode = url.searchParams.get('sslmode');
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : 5432,
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres',
    ...(sslmode && sslmode !== 'disable' && sslmode !== 'prefer' ? { ssl: { rejectUnauthorized: sslmode === 'verify-full' } } : {}),
  };
}

function wholeScriptAdapter(adapter: SqlDriverAdapter & { underlyingDriver(): pg.Pool }, dispose?: () => Promise<void>): SqlDriverAdapter {
  const executeScript = async (script: string): Promise<void> => {
    try {
      await adapter.underlyingDriver().query(script);
    } catch (err) {
      const e = err as Partial<pg.DatabaseError>;
      if (typeof e.code !== 'string') throw err;
      throw new DriverAdapterError({
        kind: 'postgres',
        code: e.code,
        severity: e.severity ?? 'ERROR',
        message: e.message ?? String(err),
        detail: e.detail,
        column: e.column,
        hint: e.hint,
        originalCode: e.code,
        originalMessage: e.message ?? '',
      });
    }
  };
  return new Proxy(adapter, {
    get(target, prop, receiver) {
      if (prop === 'executeScript') return executeScript;
      if (prop === 'dispose' && dispose) return dispose;
      if (prop === 'queryRaw') return async (query: SqlQuery) => retypeCharColumns(await target.queryRaw(query));
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
