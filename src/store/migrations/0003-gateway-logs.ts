// Migration 0003: the gateway log (P13). One row per interaction with a gateway: every HTTP exchange an adapter
// makes (is_notification false) and, later, every notification received (webhooks, is_notification true).
// Frozen once released: later changes go into new migrations.
//
// transaction_id has no foreign key on purpose: a log must outlive the row it refers to (and a call may be
// logged before its transaction row is committed). Bodies are stored with secrets removed (the writer scrubs
// them); the Authorization header is never stored.
import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    CREATE TABLE gateway_logs (
      id text PRIMARY KEY,
      gateway_id text NOT NULL,
      transaction_id text,
      interaction_type text NOT NULL CHECK (interaction_type IN
        ('authorization', 'authorization_reversal', 'capture', 'sale', 'referenced_refund', 'void', 'tokenize', 'sync')),
      interaction_status text NOT NULL CHECK (interaction_status IN ('initiated', 'success', 'failed', 'timeout', 'noop')),
      result_code text NOT NULL CHECK (result_code IN
        ('success', 'decline', 'indeterminate', 'permanent_fail', 'requires_review', 'system_error', 'validation_error')),
      gateway_ref_number text,
      gateway_auth_code text,
      gateway_date timestamptz,
      gateway_message text,
      gateway_result_code text,
      gateway_result_code_description text,
      idempotency_key text,
      is_notification boolean NOT NULL DEFAULT false,
      http_method text,
      http_path text,
      http_status integer,
      request_id text,
      request_body jsonb,
      response_body jsonb,
      latency_ms integer NOT NULL CHECK (latency_ms >= 0),
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX gateway_logs_transaction ON gateway_logs (transaction_id, id) WHERE transaction_id IS NOT NULL;
    CREATE INDEX gateway_logs_gateway_created ON gateway_logs (gateway_id, created_at);
    CREATE INDEX gateway_logs_idempotency_key ON gateway_logs (idempotency_key) WHERE idempotency_key IS NOT NULL;
    CREATE INDEX gateway_logs_ref_number ON gateway_logs (gateway_ref_number) WHERE gateway_ref_number IS NOT NULL;
  `,
  );
}
