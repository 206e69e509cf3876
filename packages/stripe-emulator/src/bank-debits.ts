// ACH Direct Debit (us_bank_account), a delayed-notification method
// (docs.stripe.com/payments/ach-direct-debit/accept-a-payment). Confirming leaves the
// PaymentIntent `processing` and its charge `pending` (no balance transaction); 4 days later on the emulator
// clock (Stripe: "typically 4 business days"; the emulator counts calendar days) the debit settles:
//   success: charge `succeeded` with a `payment` balance transaction (fee: balance.ts achFee), PaymentIntent
//            `succeeded`; events charge.succeeded, payment_intent.succeeded.
//   failure: charge `failed` (failure_code e.g. insufficient_funds), PaymentIntent `requires_payment_method`
//            with last_payment_error { code, type: 'card_error' } (⚠️ the emulator's choice: Stripe's docs do not
//            show the error type of a returned debit; card_error is what its card declines use); events
//            charge.failed, payment_intent.payment_failed.
// USD only (anything else: 400 payment_method_currency_mismatch); manual capture is not offered (400
// payment_intent_invalid_parameter).
import { chargeBalanceTransaction } from './balance.js';
import { buildCharge } from './charges.js';
import { testCardOf } from './customers.js';
import { invalidRequest } from './errors.js';
import { emit } from './events.js';
import { emitSucceeded, lastPaymentError } from './payment-attempts.js';
import type { EmulatorState } from './state.js';
import type { TimedAction } from './timeline.js';
import type { TestCard } from './test-cards.js';
import type { Charge, PaymentIntent, PaymentMethod } from './types.js';

export const BANK_DEBIT_SETTLE_S = 4 * 24 * 60 * 60;

/** Stripe-style 400s for a us_bank_account PaymentMethod on a PaymentIntent it cannot pay. */
export function checkBankDebitFits(pm: PaymentMethod, currency: string, captureMethod: string): void {
  if (pm.type !== 'us_bank_account') return;
  if (currency !== 'usd') {
    throw invalidRequest(
      `The currency ${currency} is not supported by us_bank_account PaymentMethods; ACH Direct Debit takes usd only.`,
      'payment_method_currency_mismatch',
      'currency',
    );
  }
  if (captureMethod === 'manual') {
    throw invalidRequest(
      'capture_method=manual is not supported for us_bank_account PaymentMethods.',
      'payment_intent_invalid_parameter',
      'capture_method',
    );
  }
}

export function startBankDebit(state: EmulatorState, pi: PaymentIntent, pm: PaymentMethod, card: TestCard): Charge {
  const charge = buildCharge(state, pi, pm, card, null);
  pi.latest_charge = charge.id;
  pi.status = 'processing';
  state.meta(charge.id).settleAt = charge.created + BANK_DEBIT_SETTLE_S;
  emit(state, 'charge.pending', charge);
  emit(state, 'payment_intent.processing', pi);
  return charge;
}

function settle(state: EmulatorState, charge: Charge): void {
  const meta = state.meta(charge.id);
  delete meta.settleAt;
  const pi = state.find<PaymentIntent>(charge.payment_intent ?? '', 'payment_intent');
  const pm = state.find<PaymentMethod>(charge.payment_method ?? '', 'payment_method');
  const outcome = pm ? testCardOf(state, pm).outcome : undefined;
  const failure = outcome?.kind === 'bank_debit' ? outcome.failure : null;
  if (failure === null) {
    charge.status = 'succeeded';
    charge.paid = true;
    charge.balance_transaction = chargeBalanceTransaction(state, charge, charge.amount).id;
    if (pi) {
      pi.status = 'succeeded';
      pi.amount_received = charge.amount;
      emitSucceeded(state, pi, charge, false);
    } else emit(state, 'charge.succeeded', charge);
    return;
  }
  charge.status = 'failed';
  charge.captured = false;
  charge.amount_captured = 0;
  charge.failure_code = failure.code;
  charge.failure_message = failure.message;
  charge.outcome = {
    ...(charge.outcome as Record<string, unknown>),
    network_status: 'declined_by_network',
    type: 'issuer_declined',
    reason: failure.code,
  };
  emit(state, 'charge.failed', charge);
  if (!pi || !pm) return;
  pi.status = 'requires_payment_method';
  pi.payment_method = null;
  pi.last_payment_error = lastPaymentError(state, charge, pm, { ...failure, declineCode: '' });
  emit(state, 'payment_intent.payment_failed', pi);
}

/** Timeline source: the next ACH debit to settle. */
export function nextBankDebit(state: EmulatorState): TimedAction | undefined {
  let first: Charge | undefined;
  let at = Infinity;
  for (const charge of state.all<Charge>('charge')) {
    const settleAt = state.internal.get(charge.id)?.settleAt;
    if (charge.status === 'pending' && settleAt !== undefined && settleAt < at) {
      at = settleAt;
      first = charge;
    }
  }
  return first && { atMs: at * 1000, run: () => settle(state, first) };
}
