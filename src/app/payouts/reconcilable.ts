// Payout reconciliation (M2): whether Settle can reconcile a payout and whether the gateway is ready for it. Only an
// automatic standard payout's balance transactions can be listed by payout (`balance_transactions?payout=`; manual and
// instant payouts cannot: docs.stripe.com/payouts/reconciliation). Ready once Stripe's own reconciliation completed
// (Payouts.d.ts `reconciliation_status`), or once the payout failed (Stripe never completes a failed payout, but its
// balance transactions stay listed).
import type { GatewayPayout } from '../gateway-port.js';

export function reconcilable(p: Pick<GatewayPayout, 'automatic' | 'method' | 'status' | 'reconciliation_status'>): {
  applicable: boolean;
  ready: boolean;
} {
  const applicable = p.automatic && (p.method ?? 'standard') !== 'instant';
  return { applicable, ready: applicable && (p.reconciliation_status === 'completed' || p.status === 'failed') };
}
