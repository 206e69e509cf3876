/* eslint-disable @typescript-eslint/no-explicit-any -- the migrator works on any schema */
import type { Kysely } from 'kysely';
import { Migrator } from 'kysely/migration';
import { restrictFileModesOf } from './database.js';
import { migrationProvider } from './migrations/index.js';

export interface MigrationReport {
  applied: string[];
}

/**
 * Applies every pending migration. Safe to run from several processes at once (Kysely takes a lock). On PGlite on
 * disk, the files the migrations made are then restricted to their owner (file-modes.ts), whether they all applied
 * or not.
 */
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationReport> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest().finally(() => restrictFileModesOf(db));
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`migration ${failed?.migrationName ?? '(unknown)'} failed: ${String(error)}`, { cause: error });
  }
  return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}

/** True when every known migration has been applied (used by /readyz). */
export async function migrationsApplied(db: Kysely<any>): Promise<boolean> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const all = await migrator.getMigrations();
  return all.every((m) => m.executedAt !== undefined);
}
