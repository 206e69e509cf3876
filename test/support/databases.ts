// Test databases: PGlite in memory always; PostgreSQL too when TEST_DATABASE_URL is set (then those
// suites must run, never skip). Each PostgreSQL suite gets its own uniquely named database, dropped after.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { openDatabase, type OpenDatabase } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';

export type DatabaseKind = 'pglite' | 'postgres';

export function databaseKinds(): DatabaseKind[] {
  return process.env.TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];
}

export function postgresUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set');
  return url;
}

function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

export interface TestDatabase {
  kind: DatabaseKind;
  database: OpenDatabase;
  /** The PostgreSQL URL of this test database (undefined for PGlite). */
  url: string | undefined;
  drop(): Promise<void>;
}

/** Where global-setup.ts saved the migrated PGlite archive (absent outside vitest, e.g. in benchmarks). */
export const PGLITE_ARCHIVE_ENV = 'SETTLE_TEST_PGLITE_ARCHIVE';

let archive: Blob | undefined;
/** The migrated archive, read once per test process; undefined when there is none. */
function migratedArchive(): Blob | undefined {
  const file = process.env[PGLITE_ARCHIVE_ENV];
  if (!file) return undefined;
  archive ??= new Blob([readFileSync(file)]);
  return archive;
}

/** A fresh, migrated database of the given kind. */
export async function createTestDatabase(kind: DatabaseKind, poolSize = 10): Promise<TestDatabase> {
  if (kind === 'pglite') {
    // From the migrated archive when there is one; migrating again is then a check that finds nothing to do.
    const database = await openDatabase({ pgliteArchive: migratedArchive() });
    await migrateToLatest(database.db);
    return { kind, database, url: undefined, drop: () => database.close() };
  }
  const adminUrl = postgresUrl();
  const name = `settle_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(adminUrl, name);
  const database = await openDatabase({ url, poolSize });
  await migrateToLatest(database.db);
  return {
    kind,
    database,
    url,
    drop: async () => {
      await database.close();
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
