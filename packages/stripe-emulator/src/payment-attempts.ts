// One confirmation attempt of a PaymentIntent against its test payment method's scripted outcome, and the
// events it records (docs.stripe.com/payments/paymentintents/lifecycle; Events.d.ts):
//   card success, automatic capture      charge.succeeded, payment_intent.succeeded
//   card success, automatic_async        charge.succeeded and payment_intent.succeeded with the charge's
//                                        balance_transaction null, then charge.updated carrying it
//   card success, manual capture         charge.succeeded (captured false), payment_intent.amount_capturable_updated
//   3-D Secure on-session                payment_intent.requires_action (next_action redirect_to_url with a
//                                        return_url, use_stripe_sdk without); with error_on_requires_action a 402
//                                        and payment_intent.payment_failed, no charge
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
import type { Decline } from './test-cards.js';
import type { Charge, PaymentIntent, PaymentMethod } from './types.js';

function declineExtras(d: Decline): Pick<Failure, 'adviceCode' | 'param' | 'blocked'> {
  return {
    ...(d.adviceCode === undefined ? {} : { adviceCode: d.adviceCode }),
    ...(d.param === undefined ? {} : { param: d.param }),
    ...(d.blocked === undefined ? {} : { blocked: d.blocked }),
  };
}

/** How the confirming request asked for a required 3-D Secure authentication to be handled. */
export interface AttemptOptions {
  /** `return_url`: the customer is redirected to authenticate, then back here (next_action redirect_to_url). */
  returnUrl?: string;
  /** `error_on_requires_action`: fail the payment rather than ask for an action. */
  errorOnRequiresAction?: boolean;
}

export function attempt(
  state: EmulatorState,
  pi: PaymentIntent,
  offSession: boolean,
  options: AttemptOptions = {},
): { error?: StripeApiError } {
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
    if (options.errorOnRequiresAction === true) return { error: authenticationNotHandled(state, pi, pm) };
    // On-session 3-D Secure: the customer must authenticate. With a return_url Stripe answers a redirect to its
    // hosted 3DS page (aat-stripe plans/payments/three-d-secure.yaml: next_action.type redirect_to_url, observed
    // on Stripe test mode 2026); without one, `use_stripe_sdk` for Stripe.js to handle.
    pi.status = 'requires_action';
    pi.next_action =
      options.returnUrl === undefined
        ? {
            type: 'use_stripe_sdk',
            use_stripe_sdk: { type: 'three_d_secure_redirect', source: `src_${randomToken(24)}` },
          }
        : {
            type: 'redirect_to_url',
            redirect_to_url: { return_url: options.returnUrl, url: hostedAuthenticationUrl(pi) },
          };
    emit(state, 'payment_intent.requires_action', pi);
    return {};
  }
  if (outcome.kind !== 'success') {
    const failure: Failure =
      outcome.kind === 'decline'
        ? { code: outcome.code, declineCode: outcome.declineCode, message: outcome.message, ...declineExtras(outcome) }
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

/** The PaymentIntent's last_payment_error for a failed attempt (PaymentIntents.d.ts LastPaymentError); the 402
 * error body carries the same fields. `charge` is null when no charge was attempted (authentication refused). */
export function lastPaymentError(
  state: EmulatorState,
  charge: Charge | null,
  pm: PaymentMethod,
  failure: Failure,
): Record<string, unknown> {
  return {
    ...(failure.adviceCode === undefined ? {} : { advice_code: failure.adviceCode }),
    ...(charge === null ? {} : { charge: charge.id }),
    code: failure.code,
    ...(failure.declineCode === '' ? {} : { decline_code: failure.declineCode }),
    doc_url: docUrl(failure.code),
    message: failure.message,
    ...(failure.param === undefined ? {} : { param: failure.param }),
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
  pi.latest_charge = charge.id;
  emit(state, 'charge.failed', charge);
  return failPaymentIntent(state, pi, lastPaymentError(state, charge, pm, failure));
}

/** The attempt failed: the PaymentIntent goes back to requires_payment_method with the error recorded, and the
 * request answers 402 with that error and the PaymentIntent (its request_log_url is added by server.ts). */
function failPaymentIntent(
  state: EmulatorState,
  pi: PaymentIntent,
  lastError: Record<string, unknown>,
): StripeApiError {
  pi.status = 'requires_payment_method';
  pi.payment_method = null; // Stripe detaches the failed method; it stays in last_payment_error.payment_method
  pi.last_payment_error = lastError;
  emit(state, 'payment_intent.payment_failed', pi);
  return new StripeApiError(402, {
    ...(lastError as { code: string; message: string }),
    type: 'card_error',
    payment_intent: render(state, pi),
  });
}

/**
 * `error_on_requires_action=true` and a card that needs 3-D Secure: Stripe fails the payment rather than stop at
 * requires_action. The body is the one docs.stripe.com/payments/without-card-authentication shows (402 card_error
 * authentication_required / authentication_not_handled, the PaymentIntent back in requires_payment_method, no
 * charge and no param); aat-stripe observed the same code and decline_code on Stripe test mode in 2026.
 */
function authenticationNotHandled(state: EmulatorState, pi: PaymentIntent, pm: PaymentMethod): StripeApiError {
  const failure: Failure = {
    code: 'authentication_required',
    declineCode: 'authentication_not_handled',
    message:
      'This payment required an authentication action to complete, but `error_on_requires_action` was set. ' +
      "When you're ready, you can upgrade your integration to handle actions at " +
      'https://stripe.com/docs/payments/payment-intents/upgrade-to-handle-actions.',
  };
  return failPaymentIntent(state, pi, lastPaymentError(state, null, pm, failure));
}

/** Stripe's hosted 3-D Secure page, in the form Stripe answers (hooks.stripe.com/3d_secure_2/hosted with the
 * merchant, the PaymentIntent and its client secret). The emulator serves no such page: following it is not
 * covered (README). */
function hostedAuthenticationUrl(pi: PaymentIntent): string {
  const query = new URLSearchParams({
    merchant: 'acct_emulator',
    payment_intent: pi.id,
    payment_intent_client_secret: String(pi.client_secret),
    publishable_key: 'pk_test_emulator',
    source: `payatt_${randomToken(24)}`,
  });
  return `https://hooks.stripe.com/3d_secure_2/hosted?${query.toString()}`;
}
