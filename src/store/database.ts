// Opens the database: PostgreSQL through `pg` when a URL is given, otherwise PGlite (embedded, on disk).
// Both are configured to parse values identically: int8 -> safe JS number (or an error), date -> 'YYYY-MM-DD'
// string, timestamptz -> Date, numeric -> string. A PGlite directory is kept private to its owner (file-modes.ts).
import { chmodSync, mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { lockDataDir } from './data-dir-lock.js';
import { keepModesRestricted, type ModeKeeper, PRIVATE_DIR_MODE } from './file-modes.js';
import { nameRepeatedStatements, StatementNames } from './prepared-statements.js';
import type { Database } from './schema.js';

const INT8_OID = 20;
const DATE_OID = 1082;

/** int8 columns hold money in minor units; a value beyond 2^53 would silently lose precision as a number. */
export function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    throw new Error(`int8 value ${text} is outside the safe integer range`);
  }
  return value;
}

const identity = (text: string): string => text;

export type DatabaseKind = 'postgres' | 'pglite';

/** Runs a write as a named prepared statement (parsed and planned once per connection). */
export type PreparedExecutor = (name: string, text: string, params: unknown[]) => Promise<void>;

export interface OpenDatabase {
  db: Kysely<Database>;
  kind: DatabaseKind;
  /**
   * PostgreSQL only. PGlite has no such path: its single connection must only be reached through Kysely,
   * which hands it to one caller at a time (a direct query could run inside another caller's transaction).
   */
  prepared: PreparedExecutor | undefined;
  /**
   * PostgreSQL only: connections of their own for the shared gateway rate limiter's grants
   * (shared-rate-limiter.ts). A grant that waited for a slot of the main pool behind this process's own queries
   * would come back with its tokens all but expired.
   */
  rateLimitDb: Kysely<Database> | undefined;
  /** PGlite only: an archive of the data directory (PGlite's dumpDataDir), which `pgliteArchive` opens again. */
  dumpArchive: (() => Promise<Blob>) | undefined;
  /**
   * PGlite on disk: makes every directory of its data directory 0700 and every file 0600 (PGlite sets modes of its
   * own); done after opening, after migrations, every minute while open and after closing. Elsewhere a no-op.
   */
  restrictFileModes(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** postgres:// URL; when absent PGlite is used. */
  url?: string | undefined;
  /** PGlite data directory; 'memory://' (or undefined) keeps it in memory. */
  dataDir?: string | undefined;
  /**
   * PGlite in memory only: start from this archive of a data directory (PGlite's dumpDataDir) instead of a new,
   * empty cluster. The tests start each in-memory database from one migrated archive: creating a cluster takes
   * PGlite seconds, loading one about a second.
   */
  pgliteArchive?: Blob | undefined;
  poolSize?: number;
  /** PGlite on disk: how often the data directory's file modes are checked while open (default a minute; 0: never). */
  fileModeCheckMs?: number;
}

/** How often an open PGlite data directory's modes are checked: PGlite adds files as tables and the WAL grow. */
export const FILE_MODE_CHECK_MS = 60_000;

const noFileModes = async (): Promise<void> => {};

/** The mode keeper of each open PGlite database on disk, by its Kysely instance (migrate.ts asks after migrating). */
const modeKeepers = new WeakMap<object, ModeKeeper>();

/** Restricts the file modes of the data directory behind `db` when it is PGlite on disk (see OpenDatabase). */
export async function restrictFileModesOf(db: object): Promise<void> {
  await modeKeepers.get(db)?.run();
}

function warnOnStderr(message: string): void {
  process.stderr.write(`settle: ${message}\n`);
}

function ignoreConnectionError(): void {}

function openPool(url: string, max: number): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
        if (oid === INT8_OID) return parseInt8;
        if (oid === DATE_OID) return identity;
        return pg.types.getTypeParser(oid, format);
      }) as typeof pg.types.getTypeParser,
    },
  });
  // A connection the server closes (a restart, pg_terminate_backend, a dropped database) makes pg emit
  // 'error': on the pool for an idle client, on the client itself once it has left the pool (pool.end()
  // resolves before the sockets have closed). Unheard, either event would kill the process. The broken
  // client is discarded by the pool and the next query opens a new connection, so there is nothing to do.
  pool.on('error', ignoreConnectionError);
  const names = new StatementNames();
  pool.on('connect', (client) => {
    client.on('error', ignoreConnectionError);
    nameRepeatedStatements(client, names);
  });
  return pool;
}

export async function openDatabase(options: OpenOptions): Promise<OpenDatabase> {
  if (options.url) {
    const pool = openPool(options.url, options.poolSize ?? 10);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    // One connection per gateway whose limiter is busy; two cover the usual one or two gateways.
    const rateLimitDb = new Kysely<Database>({ dialect: new PostgresDialect({ pool: openPool(options.url, 2) }) });
    const prepared: PreparedExecutor = async (name, text, params) => {
      await pool.query({ name, text, values: params });
    };
    return {
      db,
      kind: 'postgres',
      prepared,
      rateLimitDb,
      dumpArchive: undefined,
      restrictFileModes: noFileModes,
      close: async () => void (await Promise.all([db.destroy(), rateLimitDb.destroy()])),
    };
  }
  const dataDir = options.dataDir && options.dataDir !== 'memory://' ? options.dataDir : undefined;
  let unlock = () => {};
  if (dataDir) {
    mkdirSync(dataDir, { recursive: true, mode: PRIVATE_DIR_MODE });
    chmodSync(dataDir, PRIVATE_DIR_MODE);
    unlock = lockDataDir(dataDir);
  }
  let pglite: PGlite;
  try {
    pglite = await PGlite.create({
      ...(dataDir ? { dataDir } : {}),
      ...(!dataDir && options.pgliteArchive ? { loadDataDir: options.pgliteArchive } : {}),
      parsers: { [INT8_OID]: parseInt8, [DATE_OID]: identity },
    });
  } catch (error) {
    unlock();
    throw error;
  }
  // After opening: PGlite unpacks a new cluster 0666/0755 and rewrites pg_internal.init 0644 at each start.
  const keeper = dataDir
    ? keepModesRestricted(dataDir, { intervalMs: options.fileModeCheckMs ?? FILE_MODE_CHECK_MS, warn: warnOnStderr })
    : undefined;
  if (keeper) {
    try {
      await keeper.run();
    } catch (error) {
      keeper.stop();
      await pglite.close().finally(unlock);
      throw error;
    }
  }
  // PGlite has one connection; Kysely hands it to one caller at a time (its PGlite adapter declares no
  // support for multiple connections, so the runtime driver takes a mutex). test/store/database.test.ts
  // checks that concurrent transactions never share it.
  const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite }) });
  if (keeper) modeKeepers.set(db, keeper);
  return {
    db,
    kind: 'pglite',
    prepared: undefined,
    rateLimitDb: undefined,
    dumpArchive: () => pglite.dumpDataDir('none'),
    restrictFileModes: keeper ? async () => void (await keeper.run()) : noFileModes,
    close: async () => {
      keeper?.stop();
      try {
        await db.destroy();
        await keeper?.run(); // what PGlite wrote on its way out
      } finally {
        unlock();
      }
    },
  };
}

/** Answers when the database does (`select 1`; GET /readyz), throws when it cannot be reached. */
export async function pingDatabase(db: Kysely<Database>): Promise<void> {
  await sql`select 1`.execute(db);
}
