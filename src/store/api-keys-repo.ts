// The api_keys table (the key rules, the bootstrap key and the verifier are app/api-keys.ts): keys are stored as
// SHA-256 digests, and no function here returns a digest.
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { ApiKeysTable, Database } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** What is read of a stored key: never its digest. */
export const API_KEY_COLUMNS = ['id', 'name', 'scopes', 'created_at', 'last_used_at', 'revoked_at'] as const;
export type ApiKeyRecord = Pick<Selectable<ApiKeysTable>, (typeof API_KEY_COLUMNS)[number]>;

/** What a request's key is checked against, found by its digest. */
export type ApiKeyCheck = Pick<Selectable<ApiKeysTable>, 'id' | 'scopes' | 'revoked_at' | 'last_used_at'>;

export interface NewApiKey {
  id: string;
  name: string;
  digest: string;
  /** JSON text of the scope list. */
  scopes: string;
  created_at: Date;
}

export function insertApiKey(trx: Db, key: NewApiKey): Promise<ApiKeyRecord> {
  return trx.insertInto('api_keys').values(key).returning(API_KEY_COLUMNS).executeTakeFirstOrThrow();
}

/** The key, locked for the rest of the database transaction. */
export function lockApiKey(trx: Transaction<Database>, id: string): Promise<ApiKeyRecord | undefined> {
  return trx.selectFrom('api_keys').select(API_KEY_COLUMNS).where('id', '=', id).forUpdate().executeTakeFirst();
}

/** Stamps revoked_at (call with the key locked and not yet revoked). */
export function markRevoked(trx: Transaction<Database>, id: string, now: Date): Promise<ApiKeyRecord> {
  return trx
    .updateTable('api_keys')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .returning(API_KEY_COLUMNS)
    .executeTakeFirstOrThrow();
}

export function findApiKey(db: Db, id: string): Promise<ApiKeyRecord | undefined> {
  return db.selectFrom('api_keys').select(API_KEY_COLUMNS).where('id', '=', id).executeTakeFirst();
}

/** The key, which must exist (Kysely's NoResultError otherwise). */
export function loadApiKey(db: Db, id: string): Promise<ApiKeyRecord> {
  return db.selectFrom('api_keys').select(API_KEY_COLUMNS).where('id', '=', id).executeTakeFirstOrThrow();
}

/** Every stored key, oldest first. */
export function allApiKeys(db: Db): Promise<ApiKeyRecord[]> {
  return db.selectFrom('api_keys').select(API_KEY_COLUMNS).orderBy('created_at').orderBy('id').execute();
}

/** A page of keys, newest first by id (one more than `limit`, to tell whether more follow). */
export function listApiKeyRows(db: Db, query: { after?: string | undefined; limit: number }): Promise<ApiKeyRecord[]> {
  let q = db.selectFrom('api_keys').select(API_KEY_COLUMNS);
  if (query.after !== undefined) q = q.where('id', '<', query.after);
  return q
    .orderBy('id', 'desc')
    .limit(query.limit + 1)
    .execute();
}

/** The key whose digest this is (the digest is the lookup key: comparing it in SQL leaks nothing useful about the secret). */
export function findKeyByDigest(db: Db, digest: string): Promise<ApiKeyCheck | undefined> {
  return db
    .selectFrom('api_keys')
    .select(['id', 'scopes', 'revoked_at', 'last_used_at'])
    .where('digest', '=', digest)
    .executeTakeFirst();
}

/** Records a use at `at`, unless the key's last_used_at is already later than `notSince` (another process wrote it). */
export async function touchLastUsed(db: Db, keyId: string, at: Date, notSince: Date): Promise<void> {
  await db
    .updateTable('api_keys')
    .set({ last_used_at: at })
    .where('id', '=', keyId)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<=', notSince)]))
    .execute();
}
