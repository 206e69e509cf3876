// Balance transactions (docs.stripe.com/api/balance_transactions). Every balance transaction is in the account's
// settlement currency (fx.ts settlementCurrencyOf: `usd` unless configured): money in another currency is converted
// at the emulator's fixed rate (fx.ts), and the transaction carries `exchange_rate` (a JSON number, e.g. 1.1), or
// null when nothing was converted. A currency the rate table does not know keeps a balance of its own (fx.ts).
// build() does the conversion, so every writer of balance transactions (charges, refunds, refund failures,
// disputes) converts the same way; payouts, which pay out a balance in its own currency, pass convert: false.
// Each transaction converts its own amount: a refund is converted from the refund's amount, not derived from the
// charge's converted amount (the same fixed rate, so only rounding can make them differ by a minor unit).
//
// Fee: Stripe's standard US card price, 2.9% + 30 cents, plus 1% when the payment is converted ("+1% if currency
// conversion is required", stripe.com/pricing). Computed in integer minor units of the SETTLED amount, each
// percentage rounded half up on its own:
//   fee = floor((settled * 29 + 500) / 1000) + 30 [+ floor((settled * 10 + 500) / 1000) when converted]
// e.g. 10000 USD -> 290 + 30 = 320, net 9680; 1099 -> 32 (31.871 rounds to 32) + 30 = 62; 10.00 EUR on a USD
// account at 1.10 -> settled 1100, 32 (31.9) + 30 + 11 (1% of 1100) = 73, net 1027. Stripe does not publish its
// rounding rule; half-up per part is the emulator's choice. The 30 is 30 minor units of the settlement currency
// whatever it is; international-card surcharges are not modelled.
//
// Charge BTs are `pending`, available 2 days after creation on the emulator clock (US standard payout timing);
// the status flips to `available` when the clock passes `available_on`. Refund BTs are negative, carry no fee
// (Stripe does not return the processing fee on refunds) and are available at once.
import { convert, settlementCurrencyOf } from './fx.js';
import { collectApplicationFee } from './application-fees.js';
import type { EmulatorState } from './state.js';
import type { BalanceTransaction, Charge } from './types.js';

export const FEE_PERCENT_TENTHS = 29; // 2.9% in tenths of a percent
export const FEE_FIXED = 30;
export const CONVERSION_FEE_PERCENT_TENTHS = 10; // 1% in tenths of a percent
const AVAILABLE_AFTER_S = 2 * 24 * 60 * 60;

export function stripeFee(amount: number): number {
  return Math.floor((amount * FEE_PERCENT_TENTHS + 500) / 1000) + FEE_FIXED;
}

/** The currency conversion fee: 1% of the settled amount, half-up to the minor unit (1100 -> 11, 1050 -> 11). */
export function conversionFee(settledAmount: number): number {
  return Math.floor((settledAmount * CONVERSION_FEE_PERCENT_TENTHS + 500) / 1000);
}

/** ACH Direct Debit: 0.8% capped at $5.00 (stripe.com/pricing, "ACH Direct Debit"), half-up to the cent. */
export const ACH_FEE_CAP = 500;
export function achFee(amount: number): number {
  return Math.min(Math.floor((amount * 8 + 500) / 1000), ACH_FEE_CAP);
}

/**
 * A new balance transaction. `amount` is in `currency` and is converted into the settlement currency (fx.ts) unless
 * `convert` is false (payouts: they move a balance in its own currency); `fee` is always in the currency the
 * transaction ends up in (the settlement currency when converted).
 */
export function build(
  state: EmulatorState,
  fields: Pick<BalanceTransaction, 'amount' | 'currency' | 'fee' | 'source' | 'type' | 'reporting_category'> & {
    description: string | null;
    availableAfterS: number;
    convert?: boolean;
  },
): BalanceTransaction {
  const created = state.nowSeconds();
  const settled =
    fields.convert === false
      ? { amount: fields.amount, currency: fields.currency, exchange_rate: null }
      : convert(fields.amount, fields.currency, settlementCurrencyOf(state));
  const bt: BalanceTransaction = {
    id: state.newId('txn'),
    object: 'balance_transaction',
    amount: settled.amount,
    available_on: created + fields.availableAfterS,
    balance_type: 'payments',
    created,
    currency: settled.currency,
    description: fields.description,
    exchange_rate: settled.exchange_rate,
    fee: fields.fee,
    fee_details:
      fields.fee === 0
        ? []
        : [
            {
              amount: fields.fee,
              application: null,
              currency: settled.currency,
              description: 'Stripe processing fees',
              type: 'stripe_fee',
            },
          ],
    net: settled.amount - fields.fee,
    reporting_category: fields.reporting_category,
    source: fields.source,
    status: fields.availableAfterS > 0 ? 'pending' : 'available',
    type: fields.type,
  };
  return state.put(bt);
}

/**
 * The charge's BT: gross = the charge's full amount (converted). After a partial capture the released part is
 * reversed by a separate partial_capture_reversal BT, so the two sum to the captured amount
 * (docs.stripe.com/payments/paymentintents/lifecycle; when converted, to within a minor unit of rounding). The fee is
 * assessed on what was captured, as settled: the card (or ACH) fee, plus the 1% conversion fee when converted.
 */
export function chargeBalanceTransaction(state: EmulatorState, charge: Charge, captured: number): BalanceTransaction {
  const bank = charge.payment_method_details.type === 'us_bank_account';
  const settled = convert(captured, charge.currency, settlementCurrencyOf(state));
  const fee =
    (bank ? achFee(settled.amount) : stripeFee(settled.amount)) +
    (settled.exchange_rate === null ? 0 : conversionFee(settled.amount));
  const bt = build(state, {
    amount: charge.amount,
    currency: charge.currency,
    fee,
    source: charge.id,
    // Non-card payments have type `payment`; reporting_category folds both into `charge`
    // (docs.stripe.com/api/balance_transactions).
    type: bank ? 'payment' : 'charge',
    reporting_category: 'charge',
    description: (charge.description as string | null) ?? null,
    availableAfterS: AVAILABLE_AFTER_S,
  });
  collectApplicationFee(state, charge, bt, captured); // Connect direct charges (application-fees.ts)
  return bt;
}

/** A refund's BT: -amount of the charge's currency, converted on its own at the fixed rate; no fee returned. */
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
