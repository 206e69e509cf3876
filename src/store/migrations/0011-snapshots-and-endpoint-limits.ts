// Migration 0011: applied webhook snapshots (W2) and per-endpoint request limits (G5). Frozen once released.
//
// gateway_snapshots: per gateway object (a PaymentIntent, a charge, a refund), the `created` of the last event whose
// snapshot Settle applied without reading the object. A snapshot that moves the ledger forward is applied only when
// its event was created strictly after that one (domain/snapshots.ts), so an older event never undoes a newer one.
//
// gateways.endpoint_rate_limit_per_second: Stripe's limit per endpoint (method and path template), 25 requests a
// second unless Stripe says otherwise (docs.stripe.com/rate-limits); 0 turns it off. Off on the built-in emulator
// gateway, which has no such limit.
import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    ALTER TABLE gateways ADD COLUMN endpoint_rate_limit_per_second integer NOT NULL DEFAULT 25;
    ALTER TABLE gateways ADD CONSTRAINT gateways_endpoint_rate_limit_per_second_check
      CHECK (endpoint_rate_limit_per_second BETWEEN 0 AND 10000);
    UPDATE gateways SET endpoint_rate_limit_per_second = 0 WHERE is_emulator;
    CREATE TABLE gateway_snapshots (
      gateway_id text NOT NULL,
      object_id text NOT NULL,
      created timestamptz NOT NULL,
      event_id text NOT NULL,
      applied_at timestamptz NOT NULL,
      CONSTRAINT gateway_snapshots_pkey PRIMARY KEY (gateway_id, object_id),
      CONSTRAINT gateway_snapshots_gateway_id_fkey FOREIGN KEY (gateway_id) REFERENCES gateways (id)
    );
  `,
  );
}
