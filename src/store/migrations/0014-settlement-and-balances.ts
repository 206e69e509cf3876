// Migration 0014: settlement, fees after refunds and disputes, and balance snapshots (issue 18: M3, M4, M5). Frozen
// once released.
//
// transactions gains, all from the gateway's balance transactions (docs/ARCHITECTURE.md, "Fees, conversion and
// balances", defines each field):
// - `settlement_currency`, `settlement_amount`: the currency and gross amount of the transaction's own balance
//   transaction (after a partial capture, what was captured). Set whenever a balance transaction is known, equal to
//   `currency` when nothing was converted; null before that.
// - `refunded_gateway_fee`, `refunded_application_fee`: fees given back by refunds of a charge (settlement currency).
// - `refunds_net_amount`, `disputes_net_amount`: on a charge, the sum of the `net` of its refunds' and its disputes'
//   balance transactions (negative or zero). The API shows them folded into `retained_net_amount`.
//
// balance_snapshots: what the `balances` job found, one row per gateway and settlement currency and run: the
// gateway's available and pending, the ledger's figures, the difference, the part the unlinked items explain and the
// items themselves (JSON), and whether the rest is flagged.
import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    ALTER TABLE transactions ADD COLUMN settlement_currency text;
    ALTER TABLE transactions ADD COLUMN settlement_amount bigint;
    ALTER TABLE transactions ADD COLUMN refunded_gateway_fee bigint NOT NULL DEFAULT 0;
    ALTER TABLE transactions ADD COLUMN refunded_application_fee bigint NOT NULL DEFAULT 0;
    ALTER TABLE transactions ADD COLUMN refunds_net_amount bigint NOT NULL DEFAULT 0;
    ALTER TABLE transactions ADD COLUMN disputes_net_amount bigint NOT NULL DEFAULT 0;
    ALTER TABLE transactions ADD CONSTRAINT transactions_settlement_currency_check
      CHECK (settlement_currency IS NULL OR settlement_currency ~ '^[A-Z]{3}$');
    CREATE TABLE balance_snapshots (
      id text NOT NULL,
      gateway_id text NOT NULL,
      currency text NOT NULL,
      taken_at timestamptz NOT NULL,
      gateway_available bigint NOT NULL,
      gateway_pending bigint NOT NULL,
      ledger_available bigint NOT NULL,
      ledger_pending bigint NOT NULL,
      difference bigint NOT NULL,
      explained bigint NOT NULL,
      unexplained bigint NOT NULL,
      flagged boolean NOT NULL,
      items jsonb NOT NULL,
      job_run_id text,
      CONSTRAINT balance_snapshots_pkey PRIMARY KEY (id),
      CONSTRAINT balance_snapshots_gateway_id_fkey FOREIGN KEY (gateway_id) REFERENCES gateways (id),
      CONSTRAINT balance_snapshots_flagged_check CHECK (flagged = (unexplained <> 0))
    );
    CREATE INDEX balance_snapshots_gateway_taken ON balance_snapshots (gateway_id, taken_at DESC);
  `,
  );
}
