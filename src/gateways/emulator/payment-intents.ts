// PaymentIntents: create, confirm, capture, cancel (stripe-facts §1). Status flow:
//   requires_payment_method -(payment_method)-> requires_confirmation -(confirm)-> one of
//   requires_action (3DS on-session) | requires_capture (manual) | succeeded (automatic, automatic_async) |
//   requires_payment_method (declined; last_payment_error set, HTTP 402 card_error)
//   requires_capture -(capture)-> succeeded; any non-final status -(cancel)-> canceled.
import { checkStripeAmount, fromStripeWireAmount, getCurrency } from '../../domain/money.js';
import { ValidationError } from '../../domain/errors.js';
import { chargeBalanceTransaction, refundBalanceTransaction } from './balance.js';
import { buildCharge, type Failure } from './charges.js';
import { requireCustomer, resolvePaymentMethod, testCardOf } from './customers.js';
import { invalidRequest, resourceMissing, StripeApiError, unexpectedState, docUrl } from './errors.js';
import type { FormObject } from './form.js';
import { checkKnown, metadataParam, optBool, optEnum, optInt, optString, reqInt, reqString, stringList } from './params.js';
import { render } from './render.js';
import { randomToken, type EmulatorState } from './state.js';
import { buildRefund } from './refunds.js';
import type { CaptureMethod, Charge, PaymentIntent, PaymentMethod } from './types.js';

export function requirePaymentIntent(state: EmulatorState, id: string, param = 'id'): PaymentIntent {
  const pi = state.find<PaymentIntent>(id, 'payment_intent');
  if (!pi) throw resourceMissing('payment_intent', id, param);
  return pi;
}

/** Stripe's amount rules via the ledger's money module: minimum, 8 digits, three-decimal ending in 0. */
function checkAmount(wire: number, currency: string, param: string): void {
  try {
    checkStripeAmount(fromStripeWireAmount(wire, currency), currency, param);
  } catch (err) {
    if (err instanceof ValidationError) throw invalidRequest(err.message, err.code, param);
    throw err;
  }
}

export function createPaymentIntent(state: EmulatorState, params: FormObject): { pi: PaymentIntent; error?: StripeApiError } {
  checkKnown(params, [
    'amount', 'currency', 'payment_method', 'customer', 'capture_method', 'confirm', 'off_session', 'metadata',
    'description', 'payment_method_types', 'automatic_payment_methods', 'setup_future_usage', 'receipt_email',
    'statement_descriptor_suffix', 'expand',
  ]);
  const amount = reqInt(params, 'amount');
  const currency = reqString(params, 'currency').toLowerCase();
  if (!getCurrency(currency)) throw invalidRequest(`Invalid currency: ${currency}.`, 'parameter_invalid_string', 'currency');
  checkAmount(amount, currency, 'amount');
  const captureMethod: CaptureMethod =
    optEnum(params, 'capture_method', ['automatic', 'automatic_async', 'manual'] as const) ?? 'automatic_async';
  const confirm = optBool(params, 'confirm') ?? false;
  const offSession = optBool(params, 'off_session');
  if (offSession !== undefined && !confirm) {
    throw invalidRequest('off_session can only be used together with confirm=true.', 'parameter_invalid_string', 'off_session');
  }
  const customerId = optString(params, 'customer');
  if (customerId !== undefined) requireCustomer(state, customerId);
  const pmId = optString(params, 'payment_method');
  const pm = pmId === undefined ? undefined : resolvePaymentMethod(state, pmId);
  const types = stringList(params, 'payment_method_types');
  if (types.some((t) => t !== 'card')) throw invalidRequest('The emulator supports only card payments.', 'payment_method_type_invalid', 'payment_method_types');
  const id = state.newId('pi');
  const pi: PaymentIntent = {
    id,
    object: 'payment_intent',
    amount,
    amount_capturable: 0,
    amount_details: { tip: {} },
    amount_received: 0,
    application: null,
    application_fee_amount: null,
    // Since API 2023-08-16 automatic payment methods are on unless payment_method_types is given.
    automatic_payment_methods: types.length > 0 ? null : { allow_redirects: 'always', enabled: true },
    canceled_at: null,
    cancellation_reason: null,
    capture_method: captureMethod,
    client_secret: `${id}_secret_${randomToken(25)}`,
    confirmation_method: 'automatic',
    created: state.nowSeconds(),
    currency,
    customer: customerId ?? null,
    description: optString(params, 'description') ?? null,
    excluded_payment_method_types: null,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    metadata: metadataParam(params),
    next_action: null,
    on_behalf_of: null,
    payment_method: pm?.id ?? null,
    payment_method_configuration_details: null,
    payment_method_options: { card: { installments: null, mandate_options: null, network: null, request_three_d_secure: 'automatic' } },
    payment_method_types: ['card'],
    processing: null,
    receipt_email: optString(params, 'receipt_email') ?? null,
    review: null,
    setup_future_usage: optEnum(params, 'setup_future_usage', ['off_session', 'on_session'] as const) ?? null,
    shipping: null,
    source: null,
    statement_descriptor: null,
    statement_descriptor_suffix: optString(params, 'statement_descriptor_suffix') ?? null,
    status: pm ? 'requires_confirmation' : 'requires_payment_method',
    transfer_data: null,
    transfer_group: null,
  };
  state.put(pi);
  if (!confirm) return { pi };
  return { pi, ...attempt(state, pi, offSession ?? false) };
}

const CONFIRMABLE = ['requires_payment_method', 'requires_confirmation', 'requires_action'] as const;

export function confirmPaymentIntent(state: EmulatorState, pi: PaymentIntent, params: FormObject): { error?: StripeApiError } {
  checkKnown(params, ['payment_method', 'off_session', 'expand', 'return_url', 'setup_future_usage']);
  if (!(CONFIRMABLE as readonly string[]).includes(pi.status)) throw unexpectedState('confirmed', pi.status, CONFIRMABLE, render(state, pi));
  const pmId = optString(params, 'payment_method');
  if (pmId !== undefined) pi.payment_method = resolvePaymentMethod(state, pmId).id;
  if (pi.payment_method === null) {
    throw invalidRequest(
      'This PaymentIntent has no payment method: pass payment_method to confirm it.',
      'payment_intent_unexpected_state',
      'payment_method',
    );
  }
  return attempt(state, pi, optBool(params, 'off_session') ?? false);
}

/** One confirmation attempt against the test card's scripted outcome. */
function attempt(state: EmulatorState, pi: PaymentIntent, offSession: boolean): { error?: StripeApiError } {
  const pm = state.find<PaymentMethod>(pi.payment_method ?? '', 'payment_method');
  if (!pm) throw resourceMissing('PaymentMethod', pi.payment_method ?? '', 'payment_method');
  const card = testCardOf(state, pm);
  pi.last_payment_error = null;
  pi.next_action = null;
  const outcome = card.outcome;
  if (outcome.kind === 'authentication_required' && !offSession) {
    // On-session 3-D Secure: the customer must authenticate in the browser (Stripe.js handles `use_stripe_sdk`).
    pi.status = 'requires_action';
    pi.next_action = { type: 'use_stripe_sdk', use_stripe_sdk: { type: 'three_d_secure_redirect', source: `src_${randomToken(24)}` } };
    return {};
  }
  if (outcome.kind !== 'success') {
    const failure: Failure =
      outcome.kind === 'decline'
        ? { code: outcome.code, declineCode: outcome.declineCode, message: outcome.message }
        : { code: 'authentication_required', declineCode: 'authentication_required', message: 'The card requires authentication, which is impossible off-session.' };
    return { error: decline(state, pi, pm, buildCharge(state, pi, pm, card, failure), failure) };
  }
  const charge = buildCharge(state, pi, pm, card, null);
  pi.latest_charge = charge.id;
  if (pi.capture_method === 'manual') {
    pi.status = 'requires_capture';
    pi.amount_capturable = pi.amount;
  } else {
    pi.status = 'succeeded';
    pi.amount_received = pi.amount;
    charge.balance_transaction = chargeBalanceTransaction(state, charge, charge.amount).id;
    if (pi.capture_method === 'automatic_async') state.meta(charge.id).asyncCapture = true;
  }
  return {};
}

function decline(state: EmulatorState, pi: PaymentIntent, pm: PaymentMethod, charge: Charge, failure: Failure): StripeApiError {
  const lastError = {
    charge: charge.id,
    code: failure.code,
    decline_code: failure.declineCode,
    doc_url: docUrl(failure.code),
    message: failure.message,
    payment_method: render(state, pm),
    type: 'card_error',
  };
  pi.latest_charge = charge.id;
  pi.status = 'requires_payment_method';
  pi.payment_method = null; // Stripe detaches the failed method; it stays in last_payment_error.payment_method
  pi.last_payment_error = lastError;
  return new StripeApiError(402, {
    ...lastError,
    type: 'card_error',
    payment_intent: render(state, pi),
    request_log_url: `https://dashboard.stripe.com/test/logs/${pi.id}`,
  });
}

export function capturePaymentIntent(state: EmulatorState, pi: PaymentIntent, params: FormObject): void {
  checkKnown(params, ['amount_to_capture', 'expand', 'metadata', 'final_capture']);
  if (pi.status !== 'requires_capture') throw unexpectedState('captured', pi.status, ['requires_capture'], render(state, pi));
  const amount = optInt(params, 'amount_to_capture') ?? pi.amount_capturable;
  if (amount <= 0) throw invalidRequest('amount_to_capture must be a positive integer.', 'parameter_invalid_integer', 'amount_to_capture');
  if (amount > pi.amount_capturable) {
    throw invalidRequest(
      `amount_to_capture (${amount}) is greater than the amount capturable (${pi.amount_capturable}).`,
      'amount_too_large',
      'amount_to_capture',
    );
  }
  if (optBool(params, 'final_capture') === false) {
    throw invalidRequest('Multicapture is not available on the emulator.', 'parameter_invalid_string', 'final_capture');
  }
  const charge = state.find<Charge>(pi.latest_charge ?? '', 'charge');
  if (!charge) throw resourceMissing('charge', pi.latest_charge ?? '', 'latest_charge');
  pi.metadata = metadataParam(params, pi.metadata);
  charge.captured = true;
  charge.amount_captured = amount;
  charge.balance_transaction = chargeBalanceTransaction(state, charge, amount).id;
  const released = charge.amount - amount;
  if (released > 0) {
    // The uncaptured part is refunded: the charge's amount_refunded grows and a refund-type balance transaction
    // with reporting_category partial_capture_reversal reverses it (stripe-facts §1, §3).
    const refund = buildRefund(state, charge, released, null, {});
    refund.balance_transaction = refundBalanceTransaction(state, refund.id, released, charge.currency, 'partial_capture_reversal').id;
    charge.amount_refunded += released;
  }
  pi.status = 'succeeded';
  pi.amount_received = amount;
  pi.amount_capturable = 0;
}

const CANCELABLE = ['requires_payment_method', 'requires_capture', 'requires_confirmation', 'requires_action', 'processing'] as const;

export function cancelPaymentIntent(state: EmulatorState, pi: PaymentIntent, params: FormObject): void {
  checkKnown(params, ['cancellation_reason', 'expand']);
  const reason = optEnum(params, 'cancellation_reason', ['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned'] as const);
  if (!(CANCELABLE as readonly string[]).includes(pi.status)) throw unexpectedState('canceled', pi.status, CANCELABLE, render(state, pi));
  if (pi.status === 'requires_capture') {
    // "the remaining amount_capturable is automatically refunded": the authorization is released. Nothing was
    // captured, so no balance transaction is involved.
    const charge = state.find<Charge>(pi.latest_charge ?? '', 'charge');
    if (charge) {
      charge.amount_refunded = charge.amount;
      charge.refunded = true;
    }
  }
  pi.status = 'canceled';
  pi.cancellation_reason = reason ?? null;
  pi.canceled_at = state.nowSeconds();
  pi.amount_capturable = 0;
  pi.next_action = null;
}
