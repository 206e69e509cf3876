// Migration 0015: Stripe Connect (issue 18, M6). Frozen once released.
//
// connected_accounts: the gateway's connected accounts Settle knows (`cac_` ids), one row per gateway and account
// (`gateway_account`, Stripe's `acct_...` id; Accounts.d.ts `Account.id`). A row is made when Settle creates the
// account at the gateway (POST /v1/accounts) or records one that already exists there; `type`, `country`,
// `default_currency`, `charges_enabled` and `payouts_enabled` are what the gateway answered at that time.
//
// gateways.connect_webhook_secret_env: the NAME of the environment variable holding the signing secret of the
// gateway's Connect webhook endpoint (an endpoint created with `connect: true` has its own secret, and only it
// receives connected accounts' events; docs.stripe.com/connect/webhooks). Same naming rules as webhook_secret_env.
//
// transactions gains the Connect fields: `connected_account_id` (the connected account a transfer goes to, a payout
// is made from, or a direct charge was made on), `transfer_group` (Stripe's free-form `transfer_group`),
// `source_transaction_id` (the charge a transfer is funded from: Stripe's `source_transaction`) and
// `gateway_transfer` (a transfer's `tr_...` id, or a reversal's `trr_...` id).
import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    ALTER TABLE gateways ADD COLUMN connect_webhook_secret_env text;
    CREATE TABLE connected_accounts (
      id text NOT NULL,
      gateway_id text NOT NULL,
      gateway_account text NOT NULL,
      type text,
      country text,
      email text,
      default_currency text,
      charges_enabled boolean NOT NULL DEFAULT false,
      payouts_enabled boolean NOT NULL DEFAULT false,
      metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      CONSTRAINT connected_accounts_pkey PRIMARY KEY (id),
      CONSTRAINT connected_accounts_gateway_id_fkey FOREIGN KEY (gateway_id) REFERENCES gateways (id),
      CONSTRAINT connected_accounts_one_per_gateway_account UNIQUE (gateway_id, gateway_account),
      CONSTRAINT connected_accounts_gateway_account_check CHECK (gateway_account ~ '^acct_[A-Za-z0-9]{1,250}$')
    );
    ALTER TABLE transactions ADD COLUMN connected_account_id text;
    ALTER TABLE transactions ADD COLUMN transfer_group text;
    ALTER TABLE transactions ADD COLUMN source_transaction_id text;
    ALTER TABLE transactions ADD COLUMN gateway_transfer text;
    ALTER TABLE transactions ADD CONSTRAINT transactions_connected_account_id_fkey
      FOREIGN KEY (connected_account_id) REFERENCES connected_accounts (id);
    ALTER TABLE transactions ADD CONSTRAINT transactions_source_transaction_id_fkey
      FOREIGN KEY (source_transaction_id) REFERENCES transactions (id);
    CREATE INDEX transactions_connected_account ON transactions (connected_account_id, id)
      WHERE connected_account_id IS NOT NULL;
    CREATE INDEX transactions_gateway_transfer ON transactions (gateway_transfer) WHERE gateway_transfer IS NOT NULL;
  `,
  );
}
