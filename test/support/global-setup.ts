// Runs once per `vitest run`, in vitest's own process, before any test file of a project that lists it (those
// that use a database: vitest.config.ts). Each such project calls it; the first does the work, the others find it
// done, so the archive is built once however many of them run, and not at all for `npm run test:unit`.
// - Checks the PostgreSQL URL: each PostgreSQL suite creates and drops its own uniquely named database
//   (test/support/databases.ts).
// - Builds one migrated PGlite database and saves its data directory as an archive, which every in-memory test
//   database then starts from (createTestDatabase('pglite')): PGlite takes 3 to 6 seconds to create a cluster on
//   this project's 2-vCPU machines and about 1 to load one, and the suite opens over a hundred of them. The test
//   processes are forked after this runs, so they see the archive's path in SETTLE_TEST_PGLITE_ARCHIVE.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { PGLITE_ARCHIVE_ENV } from './databases.js';

/** Marks the archive as built by this vitest process (shared by the setup's module instances, one per project). */
const BUILT = Symbol.for('settle.test.globalSetup');

export default async function setup(): Promise<() => void> {
  const state = globalThis as { [BUILT]?: true };
  if (state[BUILT]) return () => {};
  state[BUILT] = true;
  const url = process.env.TEST_DATABASE_URL;
  if (url && !/^postgres(ql)?:\/\//.test(url)) {
    throw new Error(`TEST_DATABASE_URL must be a postgres:// URL, got '${url}'`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'settle-test-pglite-'));
  const database = await openDatabase({});
  try {
    await migrateToLatest(database.db);
    const archive = path.join(dir, 'migrated.tar');
    writeFileSync(archive, Buffer.from(await (await database.dumpArchive!()).arrayBuffer()));
    process.env[PGLITE_ARCHIVE_ENV] = archive;
  } finally {
    await database.close();
  }
  return () => {
    delete state[BUILT];
    delete process.env[PGLITE_ARCHIVE_ENV];
    rmSync(dir, { recursive: true, force: true });
  };
}
