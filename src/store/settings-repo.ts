// The settings table (the names, defaults and validation are app/settings.ts): one row per key ever written, its
// value as JSON. Writes are serialised by an advisory lock, so that each change's audit event knows its `before`.
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Arbitrary but fixed key of the advisory lock that serialises settings changes (so each audit event's `before` is exact). */
const SETTINGS_LOCK_KEY = 7_320_010_009;

/** Takes the settings write lock for the rest of the transaction. */
export async function lockSettings(trx: Transaction<Database>): Promise<void> {
  await sql`select pg_advisory_xact_lock(${sql.lit(SETTINGS_LOCK_KEY)})`.execute(trx);
}

/** Every stored setting (keys never written have no row). */
export function settingRows(db: Db): Promise<{ key: string; value: unknown }[]> {
  return db.selectFrom('settings').select(['key', 'value']).execute();
}

/** Writes one setting (`json`: its value as JSON text). An unchanged value keeps its updated_at. */
export async function upsertSetting(trx: Transaction<Database>, key: string, json: string, now: Date): Promise<void> {
  await trx
    .insertInto('settings')
    .values({ key, value: json, updated_at: now })
    // Unchanged values keep their updated_at: it says when the value last changed.
    .onConflict((oc) =>
      oc
        .column('key')
        .doUpdateSet({ value: json, updated_at: now })
        .where(sql<boolean>`settings.value is distinct from excluded.value`),
    )
    .execute();
}
