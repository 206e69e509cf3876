// Stripe disputes, payouts and payment methods -> the port's shapes (what the webhook processor re-reads; W3, M1,
// M7). Statuses are mapped exhaustively: a value Settle does not know is reported as `unknown`, never guessed.
import type Stripe from 'stripe';
import type {
  GatewayAccountBalance,
  GatewayBalance,
  GatewayDispute,
  GatewayOutcome,
  GatewayPaymentMethodDetails,
  GatewayPayout,
  PayoutStatus,
} from '../../app/gateway-port.js';
import { TRANSACTION_ID_METADATA_KEY } from '../../app/gateway-port.js';
import { DISPUTE_STATUSES } from '../../domain/disputes.js';
import { fromStripeWireAmount } from '../../domain/money.js';
import { idOf, known, toBalance, toDate, unrecognised, upper } from './map-objects.js';

// Payouts.d.ts (`Payout.status`); docs/STRIPE.md, "Payouts".
export const PAYOUT_STATUSES: readonly PayoutStatus[] = ['pending', 'in_transit', 'paid', 'failed', 'canceled'];

export function disputeOutcome(dispute: Stripe.Dispute): GatewayOutcome<GatewayDispute> {
  const status = known(DISPUTE_STATUSES, dispute.status);
  if (status === null) return unrecognised('dispute', dispute.status);
  const currency = upper(dispute.currency);
  const balances: GatewayBalance[] = [];
  for (const bt of dispute.balance_transactions) {
    const balance = toBalance(bt);
    if (balance === null) return unrecognised('dispute balance transaction', typeof bt === 'string' ? bt : null);
    balances.push(balance);
  }
  const due = dispute.evidence_details?.due_by;
  return {
    kind: 'succeeded',
    result: {
      id: dispute.id,
      charge: idOf(dispute.charge),
      payment_intent: idOf(dispute.payment_intent),
      status,
      reason: dispute.reason,
      currency,
      amount: fromStripeWireAmount(dispute.amount, currency),
      evidence_due_by: due === null || due === undefined ? null : toDate(due),
      is_charge_refundable: dispute.is_charge_refundable,
      created: toDate(dispute.created),
      balances,
    },
  };
}

export function payoutOutcome(payout: Stripe.Payout): GatewayOutcome<GatewayPayout> {
  const status = known(PAYOUT_STATUSES, payout.status);
  if (status === null) return unrecognised('payout', payout.status);
  const currency = upper(payout.currency);
  return {
    kind: 'succeeded',
    result: {
      id: payout.id,
      status,
      currency,
      amount: fromStripeWireAmount(payout.amount, currency),
      arrival_date: toDate(payout.arrival_date),
      automatic: payout.automatic,
      created: toDate(payout.created),
      balance_transaction: idOf(payout.balance_transaction),
      failure_code: payout.failure_code ?? null,
      failure_message: payout.failure_message ?? null,
      failure_balance_transaction: idOf(payout.failure_balance_transaction),
      // Payouts.d.ts: `method` (standard, instant), `reconciliation_status` (in_progress, completed, not_applicable).
      method: payout.method,
      reconciliation_status: payout.reconciliation_status,
      source_type: payout.source_type,
      // Connect (M6): a payout Settle sent carries its transaction id (app/connect/payouts-send.ts).
      transaction_id: payout.metadata?.[TRANSACTION_ID_METADATA_KEY] ?? null,
    },
  };
}

export function paymentMethodDetails(pm: Stripe.PaymentMethod): GatewayPaymentMethodDetails {
  const card = pm.card ?? null;
  const bank = pm.us_bank_account ?? null;
  return {
    id: pm.id,
    type: pm.type,
    brand: card?.brand ?? bank?.bank_name ?? null,
    last4: card?.last4 ?? bank?.last4 ?? null,
    exp_month: card?.exp_month ?? null,
    exp_year: card?.exp_year ?? null,
    funding: card?.funding ?? null,
    fingerprint: card?.fingerprint ?? bank?.fingerprint ?? null,
    customer: idOf(pm.customer),
  };
}

/**
 * The account balance (M5; Balance.d.ts: `available` and `pending` are lists of `{ amount, currency }`, one per
 * currency, docs.stripe.com/api/balance/balance_object). A currency that appears in one list only is 0 in the other.
 */
export function toAccountBalances(balance: Stripe.Balance): GatewayAccountBalance[] {
  const byCurrency = new Map<string, GatewayAccountBalance>();
  const entry = (currency: string): GatewayAccountBalance => {
    const code = upper(currency);
    const found = byCurrency.get(code) ?? { currency: code, available: 0, pending: 0 };
    byCurrency.set(code, found);
    return found;
  };
  for (const a of balance.available) entry(a.currency).available += fromStripeWireAmount(a.amount, upper(a.currency));
  for (const p of balance.pending) entry(p.currency).pending += fromStripeWireAmount(p.amount, upper(p.currency));
  return [...byCurrency.values()].sort((a, b) => (a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0));
}
