// Idempotency records (README, "API overview"): one row per API key and Idempotency-Key, claimed `in_progress`
// before a request's work, `running` while a gateway action's call is under way, `done` with the stored response.
// What the states mean, and when a record is replayed, refused or released, is decided by the command runner
// (app/command-runner.ts); these are its statements.
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database, IdempotencyKeysTable } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;
type IdempotencyKeyRow = Selectable<IdempotencyKeysTable>;

export type IdempotencyState = IdempotencyKeyRow['state'];

/** Which record: the API key that sent the request and its Idempotency-Key. */
export interface IdempotencyRef {
  apiKeyId: string;
  key: string;
}

/** A record as written: the request it answers and, once `done`, the response. */
export interface IdempotencyValues extends IdempotencyRef {
  method: string;
  path: string;
  hash: string;
  state: IdempotencyState;
  /** The response (given for `done` only). */
  response?: { status: number; body: unknown };
}

/** What the runner reads of a record. */
export type IdempotencyRecord = Pick<
  IdempotencyKeyRow,
  'state' | 'request_hash' | 'response_status' | 'response_body' | 'created_at'
>;

function rowOf(values: IdempotencyValues) {
  return {
    api_key_id: values.apiKeyId,
    key: values.key,
    request_method: values.method,
    request_path: values.path,
    request_hash: values.hash,
    state: values.state,
    response_status: values.response?.status ?? null,
    response_body: values.response === undefined ? null : JSON.stringify(values.response.body),
  };
}

function selectRecord(db: Db, ref: IdempotencyRef) {
  return db
    .selectFrom('idempotency_keys')
    .select(['state', 'request_hash', 'response_status', 'response_body', 'created_at'])
    .where('api_key_id', '=', ref.apiKeyId)
    .where('key', '=', ref.key);
}

/** The record, not locked. */
export function findIdempotencyRecord(db: Db, ref: IdempotencyRef): Promise<IdempotencyRecord | undefined> {
  return selectRecord(db, ref).executeTakeFirst();
}

/**
 * The record, locked for the rest of the database transaction. `noWait`: a record locked by another transaction
 * fails at once with SQLSTATE 55P03 (lock_not_available) instead of waiting.
 */
export function lockIdempotencyRecord(
  trx: Db,
  ref: IdempotencyRef,
  options: { noWait?: boolean } = {},
): Promise<IdempotencyRecord | undefined> {
  const locked = selectRecord(trx, ref).forUpdate();
  return (options.noWait ? locked.noWait() : locked).executeTakeFirst();
}

/** Inserts the record unless one exists for the key; true when this call inserted it. */
export async function claimIdempotencyRecord(db: Db, values: IdempotencyValues): Promise<boolean> {
  const claimed = await db
    .insertInto('idempotency_keys')
    .values(rowOf(values))
    .onConflict((oc) => oc.columns(['api_key_id', 'key']).doNothing())
    .returning('key')
    .executeTakeFirst();
  return claimed !== undefined;
}

/** Marks the record `running` (an upsert: the claim may have been released meanwhile by a request that failed). */
export async function markIdempotencyRunning(
  trx: Db,
  values: Omit<IdempotencyValues, 'state' | 'response'>,
): Promise<void> {
  await trx
    .insertInto('idempotency_keys')
    .values(rowOf({ ...values, state: 'running' }))
    .onConflict((oc) => oc.columns(['api_key_id', 'key']).doUpdateSet({ state: 'running' }))
    .execute();
}

/** Stores the response: the record is `done` (an upsert). */
export async function saveIdempotencyResponse(
  trx: Db,
  values: Omit<IdempotencyValues, 'state' | 'response'>,
  response: { status: number; body: unknown },
): Promise<void> {
  await trx
    .insertInto('idempotency_keys')
    .values(rowOf({ ...values, state: 'done', response }))
    .onConflict((oc) =>
      oc
        .columns(['api_key_id', 'key'])
        .doUpdateSet({ state: 'done', response_status: response.status, response_body: JSON.stringify(response.body) }),
    )
    .execute();
}

/** Stores the response of a `running` record (only if it is still `running`). */
export async function storeRunningResponse(
  trx: Db,
  ref: IdempotencyRef,
  response: { status: number; body: unknown },
): Promise<void> {
  await trx
    .updateTable('idempotency_keys')
    .set({ state: 'done', response_status: response.status, response_body: JSON.stringify(response.body) })
    .where('api_key_id', '=', ref.apiKeyId)
    .where('key', '=', ref.key)
    .where('state', '=', 'running')
    .execute();
}

/** Deletes the record if it is in one of `states` (a stored response is never deleted by the runner). */
export async function deleteIdempotencyRecord(
  db: Db,
  ref: IdempotencyRef,
  states: readonly ('in_progress' | 'running')[],
): Promise<void> {
  await db
    .deleteFrom('idempotency_keys')
    .where('api_key_id', '=', ref.apiKeyId)
    .where('key', '=', ref.key)
    .where('state', 'in', states)
    .execute();
}

/** Deletes the record if it is still `running`. */
export async function deleteRunningRecord(db: Db, ref: IdempotencyRef): Promise<void> {
  await db
    .deleteFrom('idempotency_keys')
    .where('api_key_id', '=', ref.apiKeyId)
    .where('key', '=', ref.key)
    .where('state', '=', 'running')
    .execute();
}
