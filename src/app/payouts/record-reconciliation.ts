// Payout reconciliation (M2): what a read of a payout (its webhook, the backfill, a reconcile run) records about its
// reconciliation. A manual or instant payout is `not_applicable` (Stripe cannot list its contents: Payouts.d.ts,
// `reconciliation_status` not_applicable); an automatic one is `pending` until Settle has reconciled it, and becomes
// due for the payout_reconciliation job once Stripe's own reconciliation completed (`payout.reconciliation_completed`,
// or a read with `reconciliation_status: completed`) or the payout failed.
import { upsertReconciliation } from '../../store/payout-items-repo.js';
import type { Db } from '../../store/schema.js';
import type { GatewayPayout } from '../gateway-port.js';
import type { SyncContext } from '../webhooks/sync-context.js';
import { reconcilable } from './reconcilable.js';

export async function recordPayoutReconciliation(
  trx: Db,
  ctx: Pick<SyncContext, 'gatewayRow' | 'now'>,
  transactionId: string,
  payout: GatewayPayout,
): Promise<void> {
  const { applicable, ready } = reconcilable(payout);
  await upsertReconciliation(trx, {
    transaction_id: transactionId,
    gateway_id: ctx.gatewayRow.id,
    automatic: payout.automatic,
    method: payout.method ?? 'standard',
    gateway_reconciliation_status:
      payout.reconciliation_status ?? (payout.automatic ? 'in_progress' : 'not_applicable'),
    reconciliation_status: applicable ? 'pending' : 'not_applicable',
    due: ready,
    now: ctx.now,
  });
}
