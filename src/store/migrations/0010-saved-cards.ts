// Migration 0010: Stripe Customers and saved cards (R5, R6), and the charge's outcome on the record (L11). Frozen
// once released.
//
// gateway_customers: the gateway Customer (cus_...) that mirrors a Settle account or contact, one per gateway and
// owner, and one owner per gateway Customer. Settle creates it when a card is first saved or charged for that owner
// (app/saved-cards.ts); the backfill also writes it for Customers it imports.
//
// payment_methods: where a saved card was saved. `gateway_id` and `gateway_customer`: the gateway and the Customer
// the card is attached to (null: a one-time method, or one saved before this migration, attached on its next
// charge). `setup_intent`: the SetupIntent that saved it. `setup_status`: how that save ended, as far as Settle
// knows: `unknown` (the answer was lost: the save is completed by replaying it with the same idempotency key),
// `requires_action` / `processing` (waiting for the holder or the network), `succeeded`, `failed`.
//
// transactions: Stripe's charge outcome (`outcome.network_status`, `outcome.risk_level`), kept next to advice_code.
import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    CREATE TABLE gateway_customers (
      gateway_id text NOT NULL,
      owner_type text NOT NULL,
      owner_id text NOT NULL,
      customer_id text NOT NULL,
      created_at timestamptz NOT NULL,
      CONSTRAINT gateway_customers_pkey PRIMARY KEY (gateway_id, owner_type, owner_id),
      CONSTRAINT gateway_customers_one_per_customer UNIQUE (gateway_id, customer_id),
      CONSTRAINT gateway_customers_owner_type_check CHECK (owner_type IN ('account', 'contact')),
      CONSTRAINT gateway_customers_gateway_id_fkey FOREIGN KEY (gateway_id) REFERENCES gateways (id)
    );

    ALTER TABLE payment_methods ADD COLUMN gateway_id text
      CONSTRAINT payment_methods_gateway_id_fkey REFERENCES gateways (id);
    ALTER TABLE payment_methods ADD COLUMN gateway_customer text;
    ALTER TABLE payment_methods ADD COLUMN setup_intent text;
    ALTER TABLE payment_methods ADD COLUMN setup_status text
      CONSTRAINT payment_methods_setup_status_check
      CHECK (setup_status IN ('unknown', 'requires_action', 'processing', 'succeeded', 'failed'));

    ALTER TABLE transactions ADD COLUMN network_status text;
    ALTER TABLE transactions ADD COLUMN risk_level text;
  `,
  );
}
