// PaymentIntents: create and confirm (capture and cancel: payment-intent-capture.ts; the confirmation attempt:
// payment-attempts.ts). Events: payment_intent.created, then those of the attempt. Status flow
// (docs.stripe.com/payments/paymentintents/lifecycle):
//   requires_payment_method -(payment_method)-> requires_confirmation -(confirm)-> one of
//   requires_action (3DS on-session) | requires_capture (manual) | succeeded (automatic, automatic_async) |
//   requires_payment_method (declined; last_payment_error set, HTTP 402 card_error)
//   processing (ACH debit, bank-debits.ts) -(4 days)-> succeeded | requires_payment_method
//   requires_capture -(capture)-> succeeded; any non-final status -(cancel)-> canceled.
import { checkBankDebitFits } from './bank-debits.js';
import { checkChargeAmount, checkCurrency } from './charge-amounts.js';
import { requireCustomer, resolvePaymentMethod } from './customers.js';
import { invalidRequest, resourceMissing, StripeApiError, unexpectedState } from './errors.js';
import { emit } from './events.js';
import type { FormObject } from './form.js';
import { checkKnown, metadataParam, optBool, optEnum, optString, reqInt, reqString, stringList } from './params.js';
import { attempt } from './payment-attempts.js';
import { render } from './render.js';
import { randomToken, type EmulatorState } from './state.js';
import type { CaptureMethod, PaymentIntent, PaymentMethod } from './types.js';

export { cancelPaymentIntent, capturePaymentIntent } from './payment-intent-capture.js';

const METHOD_TYPES = ['card', 'us_bank_account'] as const;

/** A PaymentMethod must be of a type the PaymentIntent takes, and a bank debit must fit its currency/capture. */
function checkFits(
  pi: { currency: string; capture_method: string; payment_method_types?: unknown },
  pm: PaymentMethod,
): void {
  checkBankDebitFits(pm, pi.currency, pi.capture_method);
  const types = pi.payment_method_types as string[];
  if (!types.includes(pm.type)) {
    throw invalidRequest(
      `The PaymentMethod provided (${pm.type}) is not allowed for this PaymentIntent (payment_method_types: ${types.join(', ')}).`,
      'payment_intent_incompatible_payment_method',
      'payment_method',
    );
  }
}

export function requirePaymentIntent(state: EmulatorState, id: string, param = 'id'): PaymentIntent {
  const pi = state.find<PaymentIntent>(id, 'payment_intent');
  if (!pi) throw resourceMissing('payment_intent', id, param);
  return pi;
}

export function createPaymentIntent(
  state: EmulatorState,
  params: FormObject,
): { pi: PaymentIntent; error?: StripeApiError } {
  checkKnown(params, [
    'amount',
    'currency',
    'payment_method',
    'customer',
    'capture_method',
    'confirm',
    'off_session',
    'metadata',
    'description',
    'payment_method_types',
    'automatic_payment_methods',
    'setup_future_usage',
    'receipt_email',
    'statement_descriptor_suffix',
    'expand',
  ]);
  const amount = reqInt(params, 'amount');
  const currency = reqString(params, 'currency').toLowerCase();
  checkCurrency(currency);
  checkChargeAmount(amount, currency, 'amount');
  const captureMethod: CaptureMethod =
    optEnum(params, 'capture_method', ['automatic', 'automatic_async', 'manual'] as const) ?? 'automatic_async';
  const confirm = optBool(params, 'confirm') ?? false;
  const offSession = optBool(params, 'off_session');
  if (offSession !== undefined && !confirm) {
    throw invalidRequest(
      'off_session can only be used together with confirm=true.',
      'parameter_invalid_string',
      'off_session',
    );
  }
  const customerId = optString(params, 'customer');
  if (customerId !== undefined) requireCustomer(state, customerId);
  const pmId = optString(params, 'payment_method');
  const pm = pmId === undefined ? undefined : resolvePaymentMethod(state, pmId);
  const types = stringList(params, 'payment_method_types');
  if (types.some((t) => !(METHOD_TYPES as readonly string[]).includes(t))) {
    throw invalidRequest(
      'The emulator supports card and us_bank_account payments only.',
      'payment_method_type_invalid',
      'payment_method_types',
    );
  }
  // Automatic payment methods: cards, and ACH Direct Debit for usd
  // (docs.stripe.com/payments/ach-direct-debit/accept-a-payment).
  const methodTypes = types.length > 0 ? types : currency === 'usd' ? ['card', 'us_bank_account'] : ['card'];
  if (pm) checkFits({ currency, capture_method: captureMethod, payment_method_types: methodTypes }, pm);
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
    payment_method_options: {
      card: { installments: null, mandate_options: null, network: null, request_three_d_secure: 'automatic' },
      ...(methodTypes.includes('us_bank_account') ? { us_bank_account: { verification_method: 'automatic' } } : {}),
    },
    payment_method_types: methodTypes,
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
  emit(state, 'payment_intent.created', pi);
  if (!confirm) return { pi };
  return { pi, ...attempt(state, pi, offSession ?? false) };
}

const CONFIRMABLE = ['requires_payment_method', 'requires_confirmation', 'requires_action'] as const;

export function confirmPaymentIntent(
  state: EmulatorState,
  pi: PaymentIntent,
  params: FormObject,
): { error?: StripeApiError } {
  checkKnown(params, ['payment_method', 'off_session', 'expand', 'return_url', 'setup_future_usage']);
  if (!(CONFIRMABLE as readonly string[]).includes(pi.status))
    throw unexpectedState('confirmed', pi.status, CONFIRMABLE, render(state, pi));
  const pmId = optString(params, 'payment_method');
  if (pmId !== undefined) {
    const pm = resolvePaymentMethod(state, pmId);
    checkFits(pi, pm);
    pi.payment_method = pm.id;
  }
  if (pi.payment_method === null) {
    throw invalidRequest(
      'This PaymentIntent has no payment method: pass payment_method to confirm it.',
      'payment_intent_unexpected_state',
      'payment_method',
    );
  }
  return attempt(state, pi, optBool(params, 'off_session') ?? false);
}
