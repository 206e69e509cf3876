// Migration 0016: transfer reversals and the recovery of Connect sends (issue 18, M6). Frozen once released.
//
// A transfer reversal (Stripe's `trr_...`, TransferReversals.d.ts; POST /v1/transfers/{id}/reversals) is recorded as a
// transaction of record_type `transfer`, transaction_type `reversal`: money coming back to the platform, so its amount
// is negative like a refund's, and it names the transfer it reverses (original_transaction_id).
//
// - transactions_refund_sign: a reversal is negative too (was: refunds only).
// - transactions_reversal_has_original: a reversal names its transfer, as a refund names its charge.
// - transactions_refunded_le_captured: a transfer keeps what has been reversed of it in refunded_amount, bounded by
//   its own amount (a transfer has no captured amount); every other row keeps refunded_amount <= captured_amount.
// - sent_at: when (Settle's clock) a Connect send was first made: tx1 of a transfer's process, or of a reversal. The
//   recovery of a send left in `process` replays it with its fixed idempotency key only while the gateway still
//   holds that key (Stripe: 24 hours from the first request, docs.stripe.com/api/idempotent_requests), so it needs
//   that moment; updated_at moves with every change and follows the database's clock.
import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    ALTER TABLE transactions ADD COLUMN sent_at timestamptz;
    ALTER TABLE transactions DROP CONSTRAINT transactions_refund_sign;
    ALTER TABLE transactions ADD CONSTRAINT transactions_refund_sign
      CHECK ((transaction_type IN ('refund', 'reversal')) = (amount < 0) OR record_type = 'adjustment');
    ALTER TABLE transactions ADD CONSTRAINT transactions_reversal_has_original
      CHECK (transaction_type <> 'reversal' OR original_transaction_id IS NOT NULL);
    ALTER TABLE transactions DROP CONSTRAINT transactions_refunded_le_captured;
    ALTER TABLE transactions ADD CONSTRAINT transactions_refunded_le_captured
      CHECK (refunded_amount <= CASE WHEN record_type = 'transfer' AND transaction_type = 'normal'
        THEN amount ELSE captured_amount END);
    CREATE INDEX transactions_connect_in_process ON transactions (sent_at, id)
      WHERE status = 'process' AND record_type IN ('transfer', 'payout');
  `,
  );
}
