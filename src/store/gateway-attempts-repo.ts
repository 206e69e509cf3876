// Gateway attempts (P12): the record of one gateway action, written in tx1 with the transaction's move to
// `process` (the same statement), resolved by tx2 or by recovery.
import type { Kysely } from 'kysely';
import { everyColumn, rowsJson, selectFromJson } from './json-rows.js';
import type { Database, GatewayAttemptRow } from './schema.js';
import type { AlongsideWrite } from './transactions-repo.js';

const ATTEMPT_COLUMNS = everyColumn<'gateway_attempts'>()([
  'id',
  'transaction_id',
  'charge_transaction_id',
  'gateway_id',
  'action',
  'idempotency_key',
  'request',
  'state',
  'last_outcome',
  'error_message',
  'recovery_tries',
  'previous_status',
  'previous_payment_status',
  'revert_status',
  'api_key_id',
  'api_idempotency_key',
  'response_status',
  'created_at',
  'updated_at',
  'resolved_at',
]);

/**
 * Inserts the attempt as a write alongside the transaction's compare-and-set: only when that applies, in the same
 * statement (every column from one JSON parameter, so the text never changes).
 */
export function insertAttemptAlongside(attempt: GatewayAttemptRow): AlongsideWrite {
  const json = rowsJson(ATTEMPT_COLUMNS, [attempt]);
  return (q) =>
    q
      .insertInto('gateway_attempts')
      .columns(ATTEMPT_COLUMNS)
      .expression(selectFromJson('gateway_attempts', ATTEMPT_COLUMNS, json, { gate: 'updated' }));
}

/** The transaction's attempt still unresolved (in flight or in doubt), locked for the rest of the database transaction. */
export function lockUnresolvedAttempt(
  trx: Kysely<Database>,
  transactionId: string,
): Promise<GatewayAttemptRow | undefined> {
  return trx
    .selectFrom('gateway_attempts')
    .selectAll()
    .where('transaction_id', '=', transactionId)
    .where('state', 'in', ['in_flight', 'needs_review'])
    .forUpdate()
    .executeTakeFirst();
}

export function findAttempt(db: Kysely<Database>, id: string): Promise<GatewayAttemptRow | undefined> {
  return db.selectFrom('gateway_attempts').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The attempt, locked for the rest of the database transaction; an error when it does not exist. */
export function lockAttempt(trx: Kysely<Database>, id: string): Promise<GatewayAttemptRow> {
  return trx.selectFrom('gateway_attempts').selectAll().where('id', '=', id).forUpdate().executeTakeFirstOrThrow();
}

/** Which transactions the attempt is about (read without a lock); an error when it does not exist. */
export function attemptTransactions(
  db: Kysely<Database>,
  id: string,
): Promise<Pick<GatewayAttemptRow, 'transaction_id' | 'charge_transaction_id'>> {
  return db
    .selectFrom('gateway_attempts')
    .select(['transaction_id', 'charge_transaction_id'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
}

/**
 * The attempt's new state as a write alongside its transaction's compare-and-set (only when that applies), and only
 * while the attempt is still in the state it was read in.
 */
export function resolveAttemptAlongside(
  attempt: Pick<GatewayAttemptRow, 'id' | 'state'>,
  state: GatewayAttemptRow['state'],
  outcome: string,
  message: string | null,
  now: Date,
  resolvedAt: Date | null,
): AlongsideWrite {
  return (q) =>
    q
      .updateTable('gateway_attempts')
      .set({ state, last_outcome: outcome, error_message: message, updated_at: now, resolved_at: resolvedAt })
      .where('id', '=', attempt.id)
      .where('state', '=', attempt.state)
      .where((eb) => eb.exists(eb.selectFrom('updated').select('updated.id')));
}

/**
 * Counts a recovery try that could not tell the outcome (compare-and-set on the try count, while still in flight);
 * false when someone else resolved or counted it first.
 */
export async function countRecoveryTry(
  trx: Kysely<Database>,
  attempt: Pick<GatewayAttemptRow, 'id' | 'recovery_tries'>,
  note: string,
  now: Date,
): Promise<boolean> {
  const counted = await trx
    .updateTable('gateway_attempts')
    .set({ recovery_tries: attempt.recovery_tries + 1, last_outcome: 'unknown', error_message: note, updated_at: now })
    .where('id', '=', attempt.id)
    .where('state', '=', 'in_flight')
    .where('recovery_tries', '=', attempt.recovery_tries)
    .executeTakeFirst();
  return Number(counted.numUpdatedRows) !== 0;
}

/** Ids of in-flight attempts created at `cutoff` or before, oldest first, `limit` at most. */
export async function listInFlightAttemptIds(db: Kysely<Database>, cutoff: Date, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('gateway_attempts')
    .select('id')
    .where('state', '=', 'in_flight')
    .where('created_at', '<=', cutoff)
    .orderBy('created_at')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((row) => row.id);
}

/** The transaction's in-flight attempt (its id and when it started), if any. */
export function findInFlightAttempt(
  db: Kysely<Database>,
  transactionId: string,
): Promise<Pick<GatewayAttemptRow, 'id' | 'created_at'> | undefined> {
  return db
    .selectFrom('gateway_attempts')
    .select(['id', 'created_at'])
    .where('transaction_id', '=', transactionId)
    .where('state', '=', 'in_flight')
    .executeTakeFirst();
}

/** Whether an unresolved attempt (in flight or in doubt) waits to answer the API request of this key. */
export async function hasUnresolvedAttemptForRequest(
  db: Kysely<Database>,
  request: { apiKeyId: string; key: string },
): Promise<boolean> {
  const waiting = await db
    .selectFrom('gateway_attempts')
    .select('id')
    .where('api_key_id', '=', request.apiKeyId)
    .where('api_idempotency_key', '=', request.key)
    .where('state', 'in', ['in_flight', 'needs_review'])
    .executeTakeFirst();
  return waiting !== undefined;
}
