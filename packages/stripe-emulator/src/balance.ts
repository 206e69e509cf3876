// Balance transactions (docs.stripe.com/api/balance_transactions). The emulator's account settles in the charge's own
// currency, so
// `exchange_rate` is null and fee/net are in that currency.
//
// Fee: Stripe's standard US card price, 2.9% + 30 cents (stripe.com/pricing). Computed in integer minor units:
//   fee = round_half_up(amount * 29 / 1000) + 30 = floor((amount * 29 + 500) / 1000) + 30
// e.g. 10000 -> 290 + 30 = 320, net 9680; 1099 -> 32 (31.871 rounds to 32) + 30 = 62. Stripe does not publish
// its rounding rule; half-up is the emulator's choice. The same formula is applied to every currency (no
// international-card or conversion surcharges are modelled).
//
// Charge BTs are `pending`, available 2 days after creation on the emulator clock (US standard payout timing);
// the status flips to `available` when the clock passes `available_on`. Refund BTs are negative, carry no fee
// (Stripe does not return the processing fee on refunds) and are available at once.
import type { EmulatorState } from './state.js';
import type { BalanceTransaction, Charge } from './types.js';

export const FEE_PERCENT_TENTHS = 29; // 2.9% in tenths of a percent
export const FEE_FIXED = 30;
const AVAILABLE_AFTER_S = 2 * 24 * 60 * 60;

export function stripeFee(amount: number): number {
  return Math.floor((amount * FEE_PERCENT_TENTHS + 500) / 1000) + FEE_FIXED;
}

/** ACH Direct Debit: 0.8% capped at $5.00 (stripe.com/pricing, "ACH Direct Debit"), half-up to the cent. */
export const ACH_FEE_CAP = 500;
export function achFee(amount: number): number {
  return Math.min(Math.floor((amount * 8 + 500) / 1000), ACH_FEE_CAP);
}

export function build(
  state: EmulatorState,
  fields: Pick<BalanceTransaction, 'amount' | 'currency' | 'fee' | 'source' | 'type' | 'reporting_category'> & {
    description: string | null;
    availableAfterS: number;
  },
): BalanceTransaction {
  const created = state.nowSeconds();
  const bt: BalanceTransaction = {
    id: state.newId('txn'),
    object: 'balance_transaction',
    amount: fields.amount,
    available_on: created + fields.availableAfterS,
    balance_type: 'payments',
    created,
    currency: fields.currency,
    description: fields.description,
    exchange_rate: null,
    fee: fields.fee,
    fee_details:
      fields.fee === 0
        ? []
        : [
            {
              amount: fields.fee,
              application: null,
              currency: fields.currency,
              description: 'Stripe processing fees',
              type: 'stripe_fee',
            },
          ],
    net: fields.amount - fields.fee,
    reporting_category: fields.reporting_category,
    source: fields.source,
    status: fields.availableAfterS > 0 ? 'pending' : 'available',
    type: fields.type,
  };
  return state.put(bt);
}

/**
 * The charge's BT: gross = the charge's full amount. After a partial capture the released part is reversed by
 * a separate partial_capture_reversal BT, so the two sum to the captured amount
 * (docs.stripe.com/payments/paymentintents/lifecycle). The fee is
 * assessed on what was captured.
 */
export function chargeBalanceTransaction(state: EmulatorState, charge: Charge, captured: number): BalanceTransaction {
  const bank = charge.payment_method_details.type === 'us_bank_account';
  return build(state, {
    amount: charge.amount,
    currency: charge.currency,
    fee: bank ? achFee(captured) : stripeFee(captured),
    source: charge.id,
    // Non-card payments have type `payment`; reporting_category folds both into `charge`
    // (docs.stripe.com/api/balance_transactions).
    type: bank ? 'payment' : 'charge',
    reporting_category: 'charge',
    description: (charge.description as string | null) ?? null,
    availableAfterS: AVAILABLE_AFTER_S,
  });
}

export function refundBalanceTransaction(
  state: EmulatorState,
  refundId: string,
  amount: number,
  currency: string,
  reportingCategory: 'refund' | 'partial_capture_reversal',
): BalanceTransaction {
  return build(state, {
    amount: -amount,
    currency,
    fee: 0,
    source: refundId,
    type: 'refund',
    reporting_category: reportingCategory,
    description: reportingCategory === 'refund' ? 'REFUND FOR CHARGE' : 'Partial capture reversal',
    availableAfterS: 0,
  });
}

/** Moves pending BTs to available once the emulator clock reaches available_on. */
export function refreshStatus(state: EmulatorState, bt: BalanceTransaction): BalanceTransaction {
  if (bt.status === 'pending' && state.nowSeconds() >= bt.available_on) bt.status = 'available';
  return bt;
}
