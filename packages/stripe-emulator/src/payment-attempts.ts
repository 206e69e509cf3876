// One confirmation attempt of a PaymentIntent against its test payment method's scripted outcome, and the
// events it records (docs.stripe.com/payments/paymentintents/lifecycle; Events.d.ts):
//   card success, automatic capture      charge.succeeded, payment_intent.succeeded
//   card success, automatic_async        charge.succeeded and payment_intent.succeeded with the charge's
//                                        balance_transaction null, then charge.updated carrying it
//   card success, manual capture         charge.succeeded (captured false), payment_intent.amount_capturable_updated
//   3-D Secure on-session                payment_intent.requires_action
//   decline                              charge.failed, payment_intent.payment_failed (HTTP 402 card_error)
//   ACH debit                            charge.pending, payment_intent.processing (bank-debits.ts)
import { chargeBalanceTransaction } from './balance.js';
import { startBankDebit } from './bank-debits.js';
import { buildCharge, type Failure } from './charges.js';
import { testCardOf } from './customers.js';
import { openScriptedDispute } from './disputes.js';
import { docUrl, resourceMissing, StripeApiError } from './errors.js';
import { emit, emitJson } from './events.js';
import { render } from './render.js';
import { randomToken, type EmulatorState } from './state.js';
import type { Charge, PaymentIntent, PaymentMethod } from './types.js';

export function attempt(state: EmulatorState, pi: PaymentIntent, offSession: boolean): { error?: StripeApiError } {
  const pm = state.find<PaymentMethod>(pi.payment_method ?? '', 'payment_method');
  if (!pm) throw resourceMissing('PaymentMethod', pi.payment_method ?? '', 'payment_method');
  const card = testCardOf(state, pm);
  pi.last_payment_error = null;
  pi.next_action = null;
  const outcome = card.outcome;
  if (outcome.kind === 'bank_debit') {
    startBankDebit(state, pi, pm, card);
    return {};
  }
  if (outcome.kind === 'authentication_required' && !offSession) {
    // On-session 3-D Secure: the customer must authenticate in the browser (Stripe.js handles `use_stripe_sdk`).
    pi.status = 'requires_action';
    pi.next_action = {
      type: 'use_stripe_sdk',
      use_stripe_sdk: { type: 'three_d_secure_redirect', source: `src_${randomToken(24)}` },
    };
    emit(state, 'payment_intent.requires_action', pi);
    return {};
  }
  if (outcome.kind !== 'success') {
    const failure: Failure =
      outcome.kind === 'decline'
        ? { code: outcome.code, declineCode: outcome.declineCode, message: outcome.message }
        : {
            code: 'authentication_required',
            declineCode: 'authentication_required',
            message: 'The card requires authentication, which is impossible off-session.',
          };
    return { error: decline(state, pi, pm, buildCharge(state, pi, pm, card, failure), failure) };
  }
  const charge = buildCharge(state, pi, pm, card, null);
  pi.latest_charge = charge.id;
  if (pi.capture_method === 'manual') {
    pi.status = 'requires_capture';
    pi.amount_capturable = pi.amount;
    emit(state, 'charge.succeeded', charge);
    emit(state, 'payment_intent.amount_capturable_updated', pi);
    return {};
  }
  pi.status = 'succeeded';
  pi.amount_received = pi.amount;
  charge.balance_transaction = chargeBalanceTransaction(state, charge, charge.amount).id;
  const async = pi.capture_method === 'automatic_async';
  if (async) state.meta(charge.id).asyncCapture = true;
  emitSucceeded(state, pi, charge, async);
  openScriptedDispute(state, charge);
  return {};
}

/** charge.succeeded + payment_intent.succeeded; with automatic_async capture both show the charge without its
 * balance_transaction, and charge.updated then reports it (docs.stripe.com/payments/paymentintents/lifecycle:
 * Stripe's SLA is within an hour). */
export function emitSucceeded(state: EmulatorState, pi: PaymentIntent, charge: Charge, async: boolean): void {
  const chargeView = render(state, charge);
  if (async) chargeView.balance_transaction = null;
  emitJson(state, 'charge.succeeded', chargeView);
  emit(state, 'payment_intent.succeeded', pi);
  if (async) emitJson(state, 'charge.updated', render(state, charge), { balance_transaction: null });
}

export function lastPaymentError(
  state: EmulatorState,
  charge: Charge,
  pm: PaymentMethod,
  failure: Failure,
): Record<string, unknown> {
  return {
    charge: charge.id,
    code: failure.code,
    ...(failure.declineCode === '' ? {} : { decline_code: failure.declineCode }),
    doc_url: docUrl(failure.code),
    message: failure.message,
    payment_method: render(state, pm),
    type: 'card_error',
  };
}

function decline(
  state: EmulatorState,
  pi: PaymentIntent,
  pm: PaymentMethod,
  charge: Charge,
  failure: Failure,
): StripeApiError {
  const lastError = lastPaymentError(state, charge, pm, failure);
  pi.latest_charge = charge.id;
  pi.status = 'requires_payment_method';
  pi.payment_method = null; // Stripe detaches the failed method; it stays in last_payment_error.payment_method
  pi.last_payment_error = lastError;
  emit(state, 'charge.failed', charge);
  emit(state, 'payment_intent.payment_failed', pi);
  return new StripeApiError(402, {
    ...(lastError as { code: string; message: string }),
    type: 'card_error',
    payment_intent: render(state, pi),
    request_log_url: `https://dashboard.stripe.com/test/logs/${pi.id}`,
  });
}
