// Migration 0001: the ledger. Frozen once released: later changes go into new migrations.
// Money columns are int8 minor units; checks repeat the domain's invariants so that no code path can
// store an impossible record.
import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    CREATE TABLE settings (
      key text PRIMARY KEY,
      value jsonb NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE api_keys (
      id text PRIMARY KEY,
      name text NOT NULL,
      digest text NOT NULL UNIQUE,
      scopes jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      revoked_at timestamptz
    );

    CREATE TABLE idempotency_keys (
      api_key_id text NOT NULL,
      key text NOT NULL,
      request_method text NOT NULL,
      request_path text NOT NULL,
      request_hash text NOT NULL,
      state text NOT NULL CHECK (state IN ('in_progress', 'done')),
      response_status integer,
      response_body jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (api_key_id, key)
    );
    CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

    CREATE TABLE accounts (
      id text PRIMARY KEY,
      name text NOT NULL,
      email text,
      default_payment_method_id text,
      metadata jsonb NOT NULL DEFAULT '{}',
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE contacts (
      id text PRIMARY KEY,
      account_id text REFERENCES accounts (id),
      first_name text,
      last_name text NOT NULL,
      email text,
      default_payment_method_id text,
      metadata jsonb NOT NULL DEFAULT '{}',
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX contacts_account_id ON contacts (account_id);

    CREATE TABLE payment_methods (
      id text PRIMARY KEY,
      gateway_token text NOT NULL,
      type text NOT NULL CHECK (type IN ('card', 'us_bank_account')),
      status text NOT NULL CHECK (status IN ('valid', 'invalid', 'expired', 'one_time', 'new', 'pending',
        'verified', 'verification_failed', 'errored', 'deleted_from_gateway')),
      brand text,
      last4 text CHECK (last4 ~ '^[0-9]{4}$'),
      exp_month integer CHECK (exp_month BETWEEN 1 AND 12),
      exp_year integer CHECK (exp_year BETWEEN 1900 AND 9999),
      funding text,
      fingerprint text,
      account_id text REFERENCES accounts (id),
      contact_id text REFERENCES contacts (id),
      billing_email text,
      metadata jsonb NOT NULL DEFAULT '{}',
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX payment_methods_account_id ON payment_methods (account_id);
    CREATE INDEX payment_methods_contact_id ON payment_methods (contact_id);

    ALTER TABLE accounts ADD CONSTRAINT accounts_default_payment_method_fk
      FOREIGN KEY (default_payment_method_id) REFERENCES payment_methods (id);
    ALTER TABLE contacts ADD CONSTRAINT contacts_default_payment_method_fk
      FOREIGN KEY (default_payment_method_id) REFERENCES payment_methods (id);

    CREATE TABLE transactions (
      id text PRIMARY KEY,
      record_type text NOT NULL CHECK (record_type IN ('charge', 'payout', 'transfer', 'adjustment')),
      transaction_type text NOT NULL CHECK (transaction_type IN ('normal', 'refund', 'reversal', 'write_off')),
      status text NOT NULL CHECK (status IN ('open', 'process', 'pending', 'pending_payment_intent', 'completed',
        'on_hold', 'canceled', 'needs_review', 'failed')),
      payment_status text CHECK (payment_status IN ('authorized', 'captured', 'partially_captured', 'refunded',
        'partially_refunded', 'uncaptured', 'disputed', 'dispute_warning', 'in_transit', 'paid', 'transferred',
        'partially_reversed', 'reversed')),
      previous_status text,
      previous_payment_status text,
      amount int8 NOT NULL,
      currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
      authorized_amount int8 NOT NULL DEFAULT 0,
      captured_amount int8 NOT NULL DEFAULT 0,
      refunded_amount int8 NOT NULL DEFAULT 0,
      non_gateway boolean NOT NULL DEFAULT false,
      sub_type text,
      auto_process boolean NOT NULL DEFAULT false,
      authorize boolean NOT NULL DEFAULT false,
      capture boolean NOT NULL DEFAULT false,
      refund boolean NOT NULL DEFAULT false,
      due_date date,
      date_to_process date,
      payment_method_id text REFERENCES payment_methods (id),
      dont_auto_update_payment_method boolean NOT NULL DEFAULT false,
      account_id text REFERENCES accounts (id),
      contact_id text REFERENCES contacts (id),
      gateway_id text,
      original_transaction_id text REFERENCES transactions (id),
      reattempt_of_id text REFERENCES transactions (id),
      reattempt_number integer NOT NULL DEFAULT 0 CHECK (reattempt_number >= 0),
      uncaptured_method text CHECK (uncaptured_method IN ('manual', 'automatic')),
      source text NOT NULL CHECK (source IN ('api', 'console', 'batch', 'webhook', 'paylink', 'sync', 'import')),
      processing_mode text NOT NULL DEFAULT 'platform' CHECK (processing_mode IN ('platform', 'external')),
      gateway_payment_intent text,
      gateway_charge text,
      gateway_balance_transaction text,
      gateway_refund text,
      authorization_expires_at timestamptz,
      gateway_fee int8,
      application_fee int8,
      net_amount int8,
      exchange_rate numeric,
      balance_status text CHECK (balance_status IN ('pending', 'available')),
      available_on date,
      error_code text,
      decline_code text,
      error_message text,
      error_type text,
      description text,
      metadata jsonb NOT NULL DEFAULT '{}',
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      processed_at timestamptz,
      CONSTRAINT transactions_payment_status_iff_completed CHECK ((status = 'completed') = (payment_status IS NOT NULL)),
      CONSTRAINT transactions_amounts_non_negative CHECK (authorized_amount >= 0 AND captured_amount >= 0 AND refunded_amount >= 0),
      CONSTRAINT transactions_captured_le_authorized CHECK (captured_amount <= authorized_amount),
      CONSTRAINT transactions_refunded_le_captured CHECK (refunded_amount <= captured_amount),
      CONSTRAINT transactions_refund_sign CHECK ((transaction_type = 'refund') = (amount < 0) OR record_type = 'adjustment'),
      CONSTRAINT transactions_refund_has_original CHECK (transaction_type <> 'refund' OR original_transaction_id IS NOT NULL),
      CONSTRAINT transactions_write_off_non_gateway CHECK (transaction_type <> 'write_off' OR non_gateway)
    );
    CREATE INDEX transactions_status_id ON transactions (status, id);
    CREATE INDEX transactions_open_due ON transactions ((coalesce(date_to_process, due_date)), id) WHERE status = 'open';
    CREATE INDEX transactions_original ON transactions (original_transaction_id) WHERE original_transaction_id IS NOT NULL;
    CREATE INDEX transactions_reattempt_of ON transactions (reattempt_of_id) WHERE reattempt_of_id IS NOT NULL;
    CREATE INDEX transactions_payment_method ON transactions (payment_method_id) WHERE payment_method_id IS NOT NULL;
    CREATE INDEX transactions_account ON transactions (account_id) WHERE account_id IS NOT NULL;
    CREATE INDEX transactions_contact ON transactions (contact_id) WHERE contact_id IS NOT NULL;

    CREATE TABLE transaction_history (
      id int8 GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      transaction_id text NOT NULL,
      at timestamptz NOT NULL DEFAULT now(),
      actor text NOT NULL,
      action text NOT NULL,
      changes jsonb NOT NULL
    );
    CREATE INDEX transaction_history_transaction ON transaction_history (transaction_id, id);
  `,
  );
}
