// The databases a benchmark row runs on, each fresh and migrated, and the whole application (deps + HTTP
// app) on top, wired the way `settle serve` wires it (src/runtime.ts, src/http/server.ts) except for the
// logger, which is off as in the tests (the numbers are the application's, not stdout's).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import pg from 'pg';
import type { Deps } from '../src/app/deps.js';
import { buildApp } from '../src/http/app.js';
import { createDeps } from '../src/runtime.js';
import { openDatabase, type OpenDatabase } from '../src/store/database.js';
import { migrateToLatest } from '../src/store/migrate.js';
import type { Database } from '../src/store/schema.js';
import { createTestDatabase } from '../test/support/databases.js';
import type { BenchContext, DatabaseTarget, PostgresTarget } from './harness.js';

/** The bootstrap admin key of every benchmark app (sent as Authorization: Bearer). */
export const BENCH_ADMIN_KEY = 'settle_bench_admin_key_0123456789abcdef';

export const DATABASE_LABELS: Record<DatabaseTarget, string> = {
  'pglite-memory': 'pglite (memory)',
  'pglite-disk': 'pglite (disk)',
  postgres: 'postgresql',
};

export interface BenchApp {
  target: DatabaseTarget;
  label: string;
  db: Kysely<Database>;
  app: FastifyInstance;
  /** PostgreSQL pool size, null on PGlite. */
  poolSize: number | null;
  close(): Promise<void>;
}

const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

/** BENCH_DATABASE_URL, else TEST_DATABASE_URL, else the local default; reachable or the reason why not. */
export async function probePostgres(
  env: NodeJS.ProcessEnv = process.env,
): Promise<PostgresTarget | { skipped: string }> {
  const fromEnv = [env.BENCH_DATABASE_URL, env.TEST_DATABASE_URL].find(
    (value) => value !== undefined && value.trim() !== '',
  );
  const url = fromEnv?.trim() ?? DEFAULT_POSTGRES_URL;
  const source = env.BENCH_DATABASE_URL?.trim()
    ? 'BENCH_DATABASE_URL'
    : env.TEST_DATABASE_URL?.trim()
      ? 'TEST_DATABASE_URL'
      : 'default URL';
  if (!/^postgres(ql)?:\/\//.test(url)) return { skipped: `${source} is not a postgres:// URL` };
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const result = await client.query<{ version: string }>('select version() as version');
    return { url, version: result.rows[0]?.version ?? 'unknown' };
  } catch (error) {
    const reason = error instanceof Error ? error.message || error.name : String(error);
    return { skipped: `${redact(url)} (${source}) is unreachable: ${reason}` };
  } finally {
    await client.end().catch(() => undefined);
  }
}

function makeDeps(database: OpenDatabase): Deps {
  // As src/runtime.ts: the system clock and the settings cache with its production time to live.
  return createDeps(database);
}

/** A fresh, migrated database of the target kind with the application on it. */
export async function openBenchApp(
  target: DatabaseTarget,
  options: { postgres?: PostgresTarget; poolSize: number },
): Promise<BenchApp> {
  let database: OpenDatabase;
  let dropDatabase: () => Promise<void>;
  let poolSize: number | null = null;
  if (target === 'postgres') {
    if (!options.postgres) throw new Error('PostgreSQL is not available');
    // createTestDatabase reads the server URL from TEST_DATABASE_URL; it creates a uniquely named database
    // (and drops it in drop()).
    process.env.TEST_DATABASE_URL = options.postgres.url;
    const testDb = await createTestDatabase('postgres', options.poolSize);
    database = testDb.database;
    dropDatabase = () => testDb.drop();
    poolSize = options.poolSize;
  } else if (target === 'pglite-memory') {
    const testDb = await createTestDatabase('pglite');
    database = testDb.database;
    dropDatabase = () => testDb.drop();
  } else {
    // On disk, as `npm start` runs it (<data dir>/pglite), in a temporary directory removed afterwards.
    const dir = mkdtempSync(path.join(tmpdir(), 'settle-bench-'));
    const onDisk = await openDatabase({ dataDir: path.join(dir, 'pglite') });
    try {
      await migrateToLatest(onDisk.db);
    } catch (error) {
      await onDisk.close();
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    database = onDisk;
    dropDatabase = async () => {
      await onDisk.close();
      rmSync(dir, { recursive: true, force: true });
    };
  }
  let app: FastifyInstance;
  try {
    // API rate limit off: the benchmarks measure the application, not SETTLE_API_RATE_LIMIT.
    app = await buildApp({ deps: makeDeps(database), bootstrapApiKey: BENCH_ADMIN_KEY, apiRateLimitPerSecond: 0 });
  } catch (error) {
    await dropDatabase();
    throw error;
  }
  return {
    target,
    label: DATABASE_LABELS[target],
    db: database.db,
    app,
    poolSize,
    close: async () => {
      await app.close();
      await dropDatabase();
    },
  };
}

/**
 * For a benchmark that runs on PostgreSQL only (its processes share one database): logs why the other selected
 * databases get no rows, and returns the PostgreSQL server, or undefined (with a log line) when it is not usable.
 */
export function postgresOnly(context: BenchContext, name: string, why: string): PostgresTarget | undefined {
  const others = context.databases.filter((target) => target !== 'postgres');
  if (others.length > 0)
    context.log(
      `${name}: ${others.map((t) => DATABASE_LABELS[t]).join(', ')} rows not run: this benchmark runs on PostgreSQL only${why}.`,
    );
  if (!context.databases.includes('postgres')) return undefined;
  if (!('url' in context.postgres)) {
    context.log(`${name}: ${DATABASE_LABELS.postgres} rows skipped: ${context.postgres.skipped}`);
    return undefined;
  }
  return context.postgres;
}
