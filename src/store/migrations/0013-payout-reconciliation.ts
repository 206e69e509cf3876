// Migration 0013: payout reconciliation (M2). Frozen once released.
//
// transactions.payout_id: the Settle id of the payout transaction whose payout settled the transaction (a charge, a
// refund, a dispute-fee adjustment, a failed payout returned by a later payout). Set by reconciliation only.
// Indexes for reconciliation's lookups by the gateway's ids (charges and balance transactions had none) and for the
// transactions that name a payout.
//
// payout_reconciliations: one row per payout transaction. `gateway_reconciliation_status` is what the gateway said
// the last time the payout was read (Stripe's `Payout.reconciliation_status`: in_progress, completed,
// not_applicable; Payouts.d.ts); `reconciliation_status` is Settle's own: pending (the gateway has not finished,
// or Settle has not run yet), reconciled, mismatch, not_applicable (manual and instant payouts, whose contents
// Stripe cannot list). `due` marks a payout whose gateway reconciliation completed and that the
// payout_reconciliation job should reconcile. The counts are those of the last run.
//
// payout_items: one row per balance transaction a payout settled (`rcn_` ids), the payout's own `payout` balance
// transaction left out. `transaction_id` is the Settle transaction the item came from (null with
// `unmatched_reason`); `fee_transaction_id` the dispute-fee adjustment of a dispute item. One row per payout and
// balance transaction.
import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    ALTER TABLE transactions ADD COLUMN payout_id text;
    ALTER TABLE transactions ADD CONSTRAINT transactions_payout_id_fkey FOREIGN KEY (payout_id) REFERENCES transactions (id);
    CREATE INDEX transactions_payout ON transactions (payout_id, id) WHERE payout_id IS NOT NULL;
    CREATE INDEX transactions_gateway_charge ON transactions (gateway_charge) WHERE gateway_charge IS NOT NULL;
    CREATE INDEX transactions_gateway_balance_transaction ON transactions (gateway_balance_transaction)
      WHERE gateway_balance_transaction IS NOT NULL;

    CREATE TABLE payout_reconciliations (
      transaction_id text NOT NULL,
      gateway_id text NOT NULL,
      automatic boolean NOT NULL,
      method text NOT NULL,
      gateway_reconciliation_status text NOT NULL,
      reconciliation_status text NOT NULL,
      due boolean NOT NULL DEFAULT false,
      items_count integer NOT NULL DEFAULT 0,
      items_total bigint NOT NULL DEFAULT 0,
      unmatched_count integer NOT NULL DEFAULT 0,
      missing_count integer NOT NULL DEFAULT 0,
      mismatch_reason text,
      reconciled_at timestamptz,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      CONSTRAINT payout_reconciliations_pkey PRIMARY KEY (transaction_id),
      CONSTRAINT payout_reconciliations_transaction_id_fkey FOREIGN KEY (transaction_id) REFERENCES transactions (id),
      CONSTRAINT payout_reconciliations_gateway_id_fkey FOREIGN KEY (gateway_id) REFERENCES gateways (id),
      CONSTRAINT payout_reconciliations_status_check
        CHECK (reconciliation_status IN ('pending', 'reconciled', 'mismatch', 'not_applicable')),
      CONSTRAINT payout_reconciliations_counts_check
        CHECK (items_count >= 0 AND unmatched_count >= 0 AND missing_count >= 0)
    );
    CREATE INDEX payout_reconciliations_due ON payout_reconciliations (transaction_id) WHERE due;

    CREATE TABLE payout_items (
      id text NOT NULL,
      payout_transaction_id text NOT NULL,
      gateway_balance_transaction text NOT NULL,
      type text NOT NULL,
      reporting_category text NOT NULL,
      source text,
      amount bigint NOT NULL,
      fee bigint NOT NULL,
      net bigint NOT NULL,
      currency text NOT NULL,
      recorded_kind boolean NOT NULL,
      transaction_id text,
      fee_transaction_id text,
      unmatched_reason text,
      gateway_created_at timestamptz NOT NULL,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      CONSTRAINT payout_items_pkey PRIMARY KEY (id),
      CONSTRAINT payout_items_payout_transaction_id_fkey
        FOREIGN KEY (payout_transaction_id) REFERENCES transactions (id),
      CONSTRAINT payout_items_transaction_id_fkey FOREIGN KEY (transaction_id) REFERENCES transactions (id),
      CONSTRAINT payout_items_fee_transaction_id_fkey FOREIGN KEY (fee_transaction_id) REFERENCES transactions (id),
      CONSTRAINT payout_items_matched_or_reason
        CHECK ((transaction_id IS NULL) = (unmatched_reason IS NOT NULL))
    );
    CREATE UNIQUE INDEX payout_items_one_per_balance_transaction
      ON payout_items (payout_transaction_id, gateway_balance_transaction);
    CREATE INDEX payout_items_payout ON payout_items (payout_transaction_id, id);
    CREATE INDEX payout_items_transaction ON payout_items (transaction_id) WHERE transaction_id IS NOT NULL;
    CREATE INDEX payout_items_fee_transaction ON payout_items (fee_transaction_id) WHERE fee_transaction_id IS NOT NULL;
  `,
  );
}
