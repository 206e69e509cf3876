// Gateway attempts (P12): the record of one gateway action, written in tx1 with the transaction's move to
// `process` (the same statement), resolved by tx2 or by recovery.
import type { Kysely } from 'kysely';
import { everyColumn, rowsJson, selectFromJson } from './json-rows.js';
import type { Database, GatewayAttemptRow } from './schema.js';
import type { AlongsideWrite } from './transactions-repo.js';

const ATTEMPT_COLUMNS = everyColumn<'gateway_attempts'>()([
  'id', 'transaction_id', 'charge_transaction_id', 'gateway_id', 'action', 'idempotency_key', 'request', 'state', 'last_outcome',
  'error_message', 'recovery_tries', 'previous_status', 'previous_payment_status', 'revert_status', 'api_key_id', 'api_idempotency_key',
  'response_status', 'created_at', 'updated_at', 'resolved_at',
]);

/**
 * Inserts the attempt as a write alongside the transaction's compare-and-set: only when that applies, in the same
 * statement (every column from one JSON parameter, so the text never changes).
 */
export function insertAttemptAlongside(attempt: GatewayAttemptRow): AlongsideWrite {
  const json = rowsJson(ATTEMPT_COLUMNS, [attempt]);
  return (q) => q.insertInto('gateway_attempts').columns(ATTEMPT_COLUMNS).expression(selectFromJson('gateway_attempts', ATTEMPT_COLUMNS, json, { gate: 'updated' }));
}

/** The transaction's attempt still unresolved (in flight or in doubt), locked for the rest of the database transaction. */
export function lockUnresolvedAttempt(trx: Kysely<Database>, transactionId: string): Promise<GatewayAttemptRow | undefined> {
  return trx
    .selectFrom('gateway_attempts')
    .selectAll()
    .where('transaction_id', '=', transactionId)
    .where('state', 'in', ['in_flight', 'needs_review'])
    .forUpdate()
    .executeTakeFirst();
}
