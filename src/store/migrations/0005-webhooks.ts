// Migration 0005: staying in sync with the gateway (W1-W5, M1, M7). Frozen once released.
//
// webhook_events: every event a gateway sent, stored once per (gateway, event id) by the intake and applied later
// by the processor. `deliveries` counts how often the gateway sent it (duplicates are counted, never stored twice);
// `status` is what processing made of it; a claim (`claimed_until`) lets one worker at a time apply an event.
// `target` is the gateway object the event is about and `read_at` when the processor read that object from the
// gateway for it (`read_refunds`: the read included the payment's refunds): a later event about the same object
// that had already arrived before such a read is reflected by it and needs no read of its own.
//
// disputes: the dispute records (M7), one per gateway dispute, linked to the charge transaction.
//
// transactions: `gateway_payout` (a payout transaction's po_ id) and `disputed_amount` (what disputes have taken
// back and not reinstated; retained = captured - refunded - disputed). Unique indexes make the gateway's ids
// identify at most one row each, so an event that races Settle's own API call can never create a second record:
// a charge per PaymentIntent, a transaction per refund, a payout transaction per payout, an adjustment per
// balance transaction.
import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    CREATE TABLE webhook_events (
      id text PRIMARY KEY,
      gateway_id text NOT NULL REFERENCES gateways (id),
      event_id text NOT NULL,
      type text NOT NULL,
      object_type text,
      object_id text,
      api_version text,
      livemode boolean NOT NULL,
      event_created_at timestamptz NOT NULL,
      payload jsonb NOT NULL,
      status text NOT NULL CHECK (status IN ('pending', 'processed', 'failed', 'not_supported')),
      outcome text,
      error text,
      retryable boolean,
      attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
      deliveries integer NOT NULL DEFAULT 1 CHECK (deliveries >= 1),
      received_at timestamptz NOT NULL,
      last_received_at timestamptz NOT NULL,
      process_after timestamptz NOT NULL,
      claimed_until timestamptz,
      processed_at timestamptz,
      target text,
      read_at timestamptz,
      read_refunds boolean,
      updated_at timestamptz NOT NULL,
      CONSTRAINT webhook_events_one_per_event UNIQUE (gateway_id, event_id),
      CONSTRAINT webhook_events_failed_has_error CHECK (status <> 'failed' OR (error IS NOT NULL AND retryable IS NOT NULL))
    );
    CREATE INDEX webhook_events_due ON webhook_events (process_after, event_created_at, id) WHERE status = 'pending' OR (status = 'failed' AND retryable);
    CREATE INDEX webhook_events_received ON webhook_events (received_at, id);
    CREATE INDEX webhook_events_object ON webhook_events (object_id, event_created_at) WHERE object_id IS NOT NULL;
    CREATE INDEX webhook_events_type ON webhook_events (type, received_at);
    CREATE INDEX webhook_events_target ON webhook_events (gateway_id, target, read_at) WHERE target IS NOT NULL;

    CREATE TABLE disputes (
      id text PRIMARY KEY,
      gateway_id text NOT NULL REFERENCES gateways (id),
      gateway_dispute text NOT NULL,
      transaction_id text NOT NULL REFERENCES transactions (id),
      status text NOT NULL CHECK (status IN ('warning_needs_response', 'warning_under_review', 'warning_closed', 'needs_response',
        'under_review', 'appeal_needs_response', 'appeal_under_review', 'won', 'lost', 'prevented')),
      reason text NOT NULL,
      amount bigint NOT NULL CHECK (amount >= 0),
      currency text NOT NULL,
      amount_withdrawn bigint NOT NULL DEFAULT 0 CHECK (amount_withdrawn >= 0),
      amount_reinstated bigint NOT NULL DEFAULT 0 CHECK (amount_reinstated >= 0),
      fee bigint NOT NULL DEFAULT 0 CHECK (fee >= 0),
      fee_reinstated bigint NOT NULL DEFAULT 0 CHECK (fee_reinstated >= 0),
      evidence_due_by timestamptz,
      is_charge_refundable boolean NOT NULL DEFAULT false,
      gateway_created_at timestamptz NOT NULL,
      closed_at timestamptz,
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      CONSTRAINT disputes_one_per_gateway_dispute UNIQUE (gateway_id, gateway_dispute)
    );
    CREATE INDEX disputes_transaction ON disputes (transaction_id);
    CREATE INDEX disputes_status ON disputes (status, id);

    ALTER TABLE transactions ADD COLUMN gateway_payout text;
    ALTER TABLE transactions ADD COLUMN disputed_amount bigint NOT NULL DEFAULT 0 CHECK (disputed_amount >= 0);
    CREATE UNIQUE INDEX transactions_one_charge_per_payment_intent ON transactions (gateway_payment_intent)
      WHERE gateway_payment_intent IS NOT NULL AND record_type = 'charge' AND transaction_type = 'normal';
    CREATE UNIQUE INDEX transactions_one_per_refund ON transactions (gateway_refund) WHERE gateway_refund IS NOT NULL;
    CREATE UNIQUE INDEX transactions_one_per_payout ON transactions (gateway_payout) WHERE gateway_payout IS NOT NULL;
    CREATE UNIQUE INDEX transactions_one_adjustment_per_balance_transaction ON transactions (gateway_balance_transaction)
      WHERE record_type = 'adjustment' AND gateway_balance_transaction IS NOT NULL;
  `,
  );
}
