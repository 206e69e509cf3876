// PaymentMethods: update, detach, list, and Stripe's saved-card rules.
//
// The rules (docs.stripe.com/payments/save-during-payment, docs.stripe.com/api/payment_methods):
// - A PaymentMethod not attached to a Customer can be used for one payment. Once a PaymentIntent has been confirmed
//   with it (successfully or not) and it is still unattached, or once it has been detached, it may not be used
//   again nor attached: 400 invalid_request_error with Stripe's message below, no code and no param (the full body
//   is quoted in github.com/Automattic/woocommerce-payments/issues/323, where a failed payment retried with the same
//   PaymentMethod got it; the same text in liberapay/liberapay.com#2686 and stripe/stripe-react-native#1170).
// - A PaymentMethod attached to a Customer can only be used with that Customer: on an intent without a customer,
//   and on another customer's intent, Stripe refuses it with the messages quoted in ezet/stripe-sdk#49 and
//   getlago/lago-api#3826 (param `payment_method`).
// - `setup_future_usage` with a `customer` attaches the PaymentMethod to the customer when the payment succeeds
//   (PaymentIntentCreateParams.setup_future_usage in stripe-node's types).
// - A SetupIntent that succeeds with a customer attaches the PaymentMethod (setup-intents.ts).
// Creating PaymentMethods: payment-method-create.ts.
import { billingDetails, hashParam } from './card-params.js';
import { requireCustomer } from './customers.js';
import { invalidRequest, resourceMissing, type StripeApiError } from './errors.js';
import { emit, emitUpdated, snapshot } from './events.js';
import type { FormObject } from './form.js';
import { checkKnown, metadataParam, optEnum, optInt, optString } from './params.js';
import type { EmulatorState } from './state.js';
import type { Customer, PaymentIntent, PaymentMethod } from './types.js';

/** Stripe's text, quoted in full in woocommerce-payments#323 (see the top of this file). */
export const REUSE_MESSAGE =
  'The provided PaymentMethod was previously used with a PaymentIntent without Customer attachment, shared with a ' +
  'connected account without Customer attachment, or was detached from a Customer. It may not be used again. To ' +
  'use a PaymentMethod multiple times, you must attach it to a Customer first.';

export function reuseError(): StripeApiError {
  return invalidRequest(REUSE_MESSAGE);
}

export function isConsumed(state: EmulatorState, pm: PaymentMethod): boolean {
  return state.internal.get(pm.id)?.consumed === true;
}

/**
 * Refuses a PaymentMethod an intent for `customer` may not use: a consumed one (REUSE_MESSAGE), one attached to a
 * customer on an intent without one (ezet/stripe-sdk#49), one attached to another customer (getlago/lago-api#3826).
 */
export function checkPaymentMethodUse(
  state: EmulatorState,
  pm: PaymentMethod,
  customer: string | null,
  intent: 'PaymentIntent' | 'SetupIntent' = 'PaymentIntent',
): void {
  if (isConsumed(state, pm)) throw reuseError();
  if (pm.customer === null) return;
  if (customer === null) {
    throw invalidRequest(
      `The \`payment_method\` parameter supplied ${pm.id} belongs to the Customer ${pm.customer}. ` +
        `Please include the Customer in the \`customer\` parameter on the ${intent}.`,
      undefined,
      'payment_method',
    );
  }
  if (customer !== pm.customer) throw notTheCustomers(pm.id, 'payment_method');
}

/** Stripe's answer for a PaymentMethod that is not this customer's (getlago/lago-api#3826). */
export function notTheCustomers(pmId: string, param: string): StripeApiError {
  return invalidRequest(
    `The customer does not have a payment method with the ID ${pmId}. The payment method must be attached to the customer.`,
    undefined,
    param,
  );
}

/** Attaches `pm` to `customer` (no-op if it already is) and records payment_method.attached. */
export function attachTo(state: EmulatorState, pm: PaymentMethod, customer: Customer): void {
  if (pm.customer === customer.id) return;
  pm.customer = customer.id;
  emit(state, 'payment_method.attached', pm);
}

/**
 * After a PaymentIntent confirmation attempt with PaymentMethod `pmId` (read before the attempt: a decline clears
 * the intent's payment_method): with setup_future_usage and a customer, a successful attempt (or an ACH debit
 * that started) attaches it; otherwise an unattached PaymentMethod is spent. A `requires_action` intent has not
 * used it yet (the customer may still authenticate, or the intent be confirmed again).
 */
export function afterPaymentAttempt(state: EmulatorState, pi: PaymentIntent, pmId: string | null): void {
  const pm = state.find<PaymentMethod>(pmId ?? '', 'payment_method');
  if (!pm || pm.customer !== null || pi.status === 'requires_action') return;
  const went = pi.status === 'succeeded' || pi.status === 'requires_capture' || pi.status === 'processing';
  const customer = pi.customer === null ? undefined : state.find<Customer>(pi.customer, 'customer');
  if (went && pi.setup_future_usage != null && customer && customer.deleted !== true) {
    attachTo(state, pm, customer);
    return;
  }
  state.meta(pm.id).consumed = true;
}

export function requirePaymentMethod(state: EmulatorState, id: string, param = 'id'): PaymentMethod {
  const pm = state.find<PaymentMethod>(id, 'payment_method');
  if (!pm) throw resourceMissing('PaymentMethod', id, param);
  return pm;
}

// ---- update, detach, list --------------------------------------------------------------------------------------

function expiry(card: FormObject, current: Record<string, unknown>): { exp_month: number; exp_year: number } {
  const month = optInt(card, 'exp_month');
  const year = optInt(card, 'exp_year');
  if (month !== undefined && (month < 1 || month > 12))
    throw invalidRequest("Your card's expiration month is invalid.", 'invalid_expiry_month', 'card[exp_month]');
  if (year !== undefined && (year < 2000 || year > 2100))
    throw invalidRequest("Your card's expiration year is invalid.", 'invalid_expiry_year', 'card[exp_year]');
  return { exp_month: month ?? (current.exp_month as number), exp_year: year ?? (current.exp_year as number) };
}

/**
 * POST /v1/payment_methods/:id: billing_details, metadata, card[exp_month|exp_year], allow_redisplay. Stripe
 * updates only PaymentMethods attached to a customer (docs.stripe.com/api/payment_methods/update); records
 * payment_method.updated with previous_attributes.
 */
export function updatePaymentMethod(state: EmulatorState, id: string, params: FormObject): PaymentMethod {
  checkKnown(params, ['billing_details', 'metadata', 'card', 'us_bank_account', 'allow_redisplay', 'expand']);
  const pm = requirePaymentMethod(state, id);
  if (pm.customer === null) {
    throw invalidRequest('You must save this PaymentMethod to a customer before you can update it.', undefined, 'id');
  }
  const card = hashParam(params, 'card', ['exp_month', 'exp_year', 'networks']);
  if (card !== undefined && pm.type !== 'card')
    throw invalidRequest(`PaymentMethod ${pm.id} is not a card.`, undefined, 'card');
  const bank = hashParam(params, 'us_bank_account', ['account_holder_type', 'account_type']);
  if (bank !== undefined && pm.type !== 'us_bank_account')
    throw invalidRequest(`PaymentMethod ${pm.id} is not a us_bank_account.`, undefined, 'us_bank_account');
  // Validate everything before changing anything.
  const billing = billingDetails(params, pm.billing_details as Record<string, unknown>);
  const metadata = metadataParam(params, (pm.metadata ?? {}) as Record<string, string>);
  const exp = card === undefined ? undefined : expiry(card, pm.card ?? {});
  const redisplay = optEnum(params, 'allow_redisplay', ['always', 'limited', 'unspecified'] as const);
  const holder = bank && optEnum(bank, 'account_holder_type', ['individual', 'company'] as const);
  const accountType = bank && optEnum(bank, 'account_type', ['checking', 'savings'] as const);
  const before = snapshot(state, pm);
  pm.billing_details = billing;
  pm.metadata = metadata;
  if (exp && pm.card) pm.card = { ...pm.card, ...exp };
  if (redisplay !== undefined) pm.allow_redisplay = redisplay;
  const account = pm.us_bank_account as Record<string, unknown> | undefined;
  if (account && holder) account.account_holder_type = holder;
  if (account && accountType) account.account_type = accountType;
  emitUpdated(state, 'payment_method.updated', pm, before);
  return pm;
}

/**
 * POST /v1/payment_methods/:id/detach: the PaymentMethod leaves its customer and may not be used again
 * (REUSE_MESSAGE covers "was detached from a Customer"); records payment_method.detached. A customer whose
 * default_payment_method it was loses it (customer.updated).
 */
export function detachPaymentMethod(state: EmulatorState, id: string, params: FormObject): PaymentMethod {
  checkKnown(params, ['expand']);
  const pm = requirePaymentMethod(state, id);
  if (pm.customer === null) {
    throw invalidRequest(
      'The payment method you provided is not attached to a customer so detachment is impossible.',
      undefined,
      'payment_method',
    );
  }
  const customer = state.find<Customer>(pm.customer, 'customer');
  pm.customer = null;
  state.meta(pm.id).consumed = true;
  emit(state, 'payment_method.detached', pm);
  const settings = customer?.invoice_settings as Record<string, unknown> | undefined;
  if (customer && settings?.default_payment_method === pm.id) {
    const before = snapshot(state, customer);
    customer.invoice_settings = { ...settings, default_payment_method: null };
    emitUpdated(state, 'customer.updated', customer, before);
  }
  return pm;
}

/** GET /v1/payment_methods: with `customer`, that customer's PaymentMethods (optionally of one `type`). Without it
 * Stripe lists the PaymentMethods attached to the account itself (Treasury), which the emulator never has. */
export function listPaymentMethods(state: EmulatorState, params: FormObject): PaymentMethod[] {
  checkKnown(params, [
    'customer',
    'customer_account',
    'type',
    'allow_redisplay',
    'limit',
    'starting_after',
    'ending_before',
    'expand',
  ]);
  const customer = optString(params, 'customer');
  if (customer === undefined) return [];
  requireCustomer(state, customer);
  return customerPaymentMethods(state, customer, params);
}

/** A customer's PaymentMethods, oldest first, filtered by `type` and `allow_redisplay`. */
export function customerPaymentMethods(state: EmulatorState, customer: string, params: FormObject): PaymentMethod[] {
  const type = optString(params, 'type');
  const redisplay = optEnum(params, 'allow_redisplay', ['always', 'limited', 'unspecified'] as const);
  return state
    .all<PaymentMethod>('payment_method')
    .filter(
      (pm) =>
        pm.customer === customer &&
        (type === undefined || pm.type === type) &&
        (redisplay === undefined || pm.allow_redisplay === redisplay),
    );
}
