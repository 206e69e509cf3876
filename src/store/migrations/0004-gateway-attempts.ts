// Migration 0004: gateway attempts (P12, exactly once). Frozen once released: later changes go into new migrations.
//
// Before Settle calls a gateway to move money it records the attempt here, in the same database transaction that
// moves the transaction to `process` (tx1): the action, the request it will send, and the idempotency key derived
// from the attempt's id. The call happens outside any database transaction; tx2 (or, after a crash or an unknown
// answer, recovery) resolves the attempt. The partial unique index allows at most one unresolved attempt per
// transaction, so no code path can start a second call for a transaction whose first is still in doubt.
//
// idempotency_keys gains the state `running`: an API request whose gateway call is under way (between tx1 and tx2).
// A duplicate request that arrives then is refused as in use; recovery stores the response if the process died.
import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_state_check;
    ALTER TABLE idempotency_keys ADD CONSTRAINT idempotency_keys_state_check CHECK (state IN ('in_progress', 'running', 'done'));

    CREATE TABLE gateway_attempts (
      id text PRIMARY KEY,
      transaction_id text NOT NULL REFERENCES transactions (id),
      charge_transaction_id text REFERENCES transactions (id),
      gateway_id text NOT NULL REFERENCES gateways (id),
      action text NOT NULL CHECK (action IN ('authorize', 'charge', 'capture', 'release', 'refund')),
      idempotency_key text NOT NULL UNIQUE,
      request jsonb NOT NULL,
      state text NOT NULL CHECK (state IN ('in_flight', 'succeeded', 'failed', 'reverted', 'needs_review')),
      last_outcome text,
      error_message text,
      recovery_tries integer NOT NULL DEFAULT 0 CHECK (recovery_tries >= 0),
      previous_status text NOT NULL,
      previous_payment_status text,
      revert_status text NOT NULL CHECK (revert_status IN ('open', 'completed', 'failed')),
      api_key_id text,
      api_idempotency_key text,
      response_status integer NOT NULL,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      resolved_at timestamptz,
      CONSTRAINT gateway_attempts_refund_has_charge CHECK (action <> 'refund' OR charge_transaction_id IS NOT NULL),
      CONSTRAINT gateway_attempts_resolved CHECK ((state IN ('in_flight', 'needs_review')) = (resolved_at IS NULL))
    );
    CREATE UNIQUE INDEX gateway_attempts_one_unresolved ON gateway_attempts (transaction_id) WHERE state IN ('in_flight', 'needs_review');
    CREATE INDEX gateway_attempts_in_flight ON gateway_attempts (created_at, id) WHERE state = 'in_flight';
    CREATE INDEX gateway_attempts_transaction ON gateway_attempts (transaction_id, id);
  `,
  );
}
