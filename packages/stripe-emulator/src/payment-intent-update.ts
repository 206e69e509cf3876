// PaymentIntent update (POST /v1/payment_intents/:id) and incremental authorization
// (POST /v1/payment_intents/:id/increment_authorization).
//
// Update (docs.stripe.com/api/payment_intents/update: "Depending on which properties you update, you might need to
// confirm the PaymentIntent again. For example, updating the payment_method always requires you to confirm the
// PaymentIntent again."): what changes how the payment is made (amount, currency, customer, payment_method,
// payment_method_types, capture_method, setup_future_usage, payment_method_options, application_fee_amount,
// transfer_data, shipping, statement descriptors) only while nothing has been attempted for good: in
// requires_payment_method, requires_confirmation or requires_action, else 400 payment_intent_unexpected_state; a new
// payment_method moves it to requires_confirmation. metadata, description and receipt_email may change in any status.
// Stripe records no event for it (there is no payment_intent.updated event type in Events.d.ts).
//
// Incremental authorization (docs.stripe.com/payments/incremental-authorization): only on a requires_capture
// PaymentIntent whose card options asked for it (payment_method_options[card][request_incremental_authorization]
// =if_available), raising the authorized amount; the emulator's account is eligible, so the charge's
// payment_method_details.card.incremental_authorization.status is `available` then. Otherwise Stripe refuses with
// 400 invalid_request_error and no code, no param (aat-stripe plans/payments/increment-authorization.yaml,
// raiseRefused). Events: charge.updated, payment_intent.amount_capturable_updated.
import { checkChargeAmount, checkCurrency } from './charge-amounts.js';
import { requireCustomer, resolvePaymentMethod } from './customers.js';
import { invalidRequest, unexpectedState } from './errors.js';
import { emit, emitUpdated, snapshot } from './events.js';
import type { FormObject } from './form.js';
import { checkKnown, metadataParam, optEnum, optInt, optString, reqInt } from './params.js';
import {
  applicationFeeParam,
  descriptorParam,
  hashParam,
  paymentMethodOptionsParam,
  shippingParam,
} from './payment-intent-params.js';
import { checkFits, METHOD_TYPE_PARAMS, methodTypesParam } from './payment-intents.js';
import { checkPaymentMethodUse } from './payment-methods.js';
import { render } from './render.js';
import type { EmulatorState } from './state.js';
import type { CaptureMethod, Charge, PaymentIntent, PaymentMethod } from './types.js';
import { incrementalRequested } from './charges.js';

const UPDATABLE = ['requires_payment_method', 'requires_confirmation', 'requires_action'] as const;

/** Parameters that may change in any status. */
const ALWAYS = ['metadata', 'description', 'receipt_email', 'expand'];
/** Parameters that change the payment itself: only before it is attempted for good (UPDATABLE). */
const BEFORE_PAYMENT = [
  'amount',
  'currency',
  'customer',
  'payment_method',
  ...METHOD_TYPE_PARAMS,
  'capture_method',
  'setup_future_usage',
  'payment_method_options',
  'application_fee_amount',
  'transfer_data',
  'shipping',
  'statement_descriptor',
  'statement_descriptor_suffix',
];

export function updatePaymentIntent(state: EmulatorState, pi: PaymentIntent, params: FormObject): PaymentIntent {
  checkKnown(params, [...ALWAYS, ...BEFORE_PAYMENT]);
  const touched = BEFORE_PAYMENT.filter((k) => params[k] !== undefined);
  if (touched.length > 0 && !(UPDATABLE as readonly string[]).includes(pi.status)) {
    throw unexpectedState(`updated (${touched.join(', ')})`, pi.status, UPDATABLE, render(state, pi));
  }
  // Everything is read and checked before anything changes, so a refused update changes nothing.
  const currency = optString(params, 'currency')?.toLowerCase() ?? pi.currency;
  if (params.currency !== undefined) checkCurrency(currency);
  const amount = optInt(params, 'amount') ?? pi.amount;
  if (params.amount !== undefined || params.currency !== undefined)
    checkChargeAmount(amount, currency, params.amount !== undefined ? 'amount' : 'currency');
  const customerId = optString(params, 'customer');
  if (customerId !== undefined) requireCustomer(state, customerId);
  const captureMethod: CaptureMethod =
    optEnum(params, 'capture_method', ['automatic', 'automatic_async', 'manual'] as const) ?? pi.capture_method;
  const types = methodTypesParam(params);
  const methodTypes = types.length > 0 ? types : (pi.payment_method_types as string[]);
  const pmId = optString(params, 'payment_method');
  const pm =
    pmId !== undefined
      ? resolvePaymentMethod(state, pmId)
      : state.find<PaymentMethod>(pi.payment_method ?? '', 'payment_method');
  if (pm) checkFits({ currency, capture_method: captureMethod, payment_method_types: methodTypes }, pm);
  // The saved-card rules (payment-methods.ts) apply to a payment method set by update as on create.
  if (pmId !== undefined && pm) checkPaymentMethodUse(state, pm, customerId ?? pi.customer);
  const futureUsage = optEnum(params, 'setup_future_usage', ['off_session', 'on_session'] as const);
  const options = paymentMethodOptionsParam(params, pi.payment_method_options as Record<string, unknown>);
  const fee = applicationFeeParam(params, amount);
  if (fee === undefined && typeof pi.application_fee_amount === 'number' && pi.application_fee_amount > amount)
    throw invalidRequest(
      'application_fee_amount must be between 0 and the amount of the PaymentIntent.',
      'parameter_invalid_integer',
      'amount',
    );
  // Only the amount of transfer_data can change (PaymentIntentUpdateParams.TransferData).
  const transfer = hashParam(params, 'transfer_data', ['amount']);
  const transferAmount = transfer === undefined ? undefined : optInt(transfer, 'amount');
  if (transfer !== undefined && pi.transfer_data === null)
    throw invalidRequest('This PaymentIntent has no transfer_data to update.', undefined, 'transfer_data');
  if (transferAmount !== undefined && (transferAmount < 0 || transferAmount > amount))
    throw invalidRequest(
      'transfer_data[amount] must be between 0 and the amount of the PaymentIntent.',
      'parameter_invalid_integer',
      'transfer_data[amount]',
    );
  const shipping = shippingParam(params);
  const descriptor = descriptorParam(params, 'statement_descriptor');
  const suffix = descriptorParam(params, 'statement_descriptor_suffix');
  const metadata = metadataParam(params, pi.metadata);
  const description = params.description === '' ? null : optString(params, 'description');
  const receiptEmail = params.receipt_email === '' ? null : optString(params, 'receipt_email');

  pi.amount = amount;
  pi.currency = currency;
  if (customerId !== undefined) pi.customer = customerId;
  pi.capture_method = captureMethod;
  if (types.length > 0) {
    pi.payment_method_types = types;
    pi.allowed_payment_method_types = types;
    pi.automatic_payment_methods = null;
  }
  if (pmId !== undefined && pm) {
    pi.payment_method = pm.id;
    // A new payment method must be confirmed again (docs.stripe.com/api/payment_intents/update).
    pi.status = 'requires_confirmation';
    pi.next_action = null;
  }
  if (futureUsage !== undefined) pi.setup_future_usage = futureUsage;
  pi.payment_method_options = options;
  if (fee !== undefined) pi.application_fee_amount = fee;
  if (transferAmount !== undefined) pi.transfer_data = { ...(pi.transfer_data as object), amount: transferAmount };
  if (shipping !== undefined) pi.shipping = shipping;
  if (descriptor !== undefined) pi.statement_descriptor = descriptor;
  if (suffix !== undefined) pi.statement_descriptor_suffix = suffix;
  pi.metadata = metadata;
  if (description !== undefined) pi.description = description;
  if (receiptEmail !== undefined) pi.receipt_email = receiptEmail;
  return pi;
}

export function incrementAuthorization(state: EmulatorState, pi: PaymentIntent, params: FormObject): PaymentIntent {
  checkKnown(params, ['amount', 'description', 'metadata', 'expand']);
  const amount = reqInt(params, 'amount');
  if (pi.status !== 'requires_capture')
    throw unexpectedState('incremented', pi.status, ['requires_capture'], render(state, pi));
  const charge = state.find<Charge>(pi.latest_charge ?? '', 'charge');
  const card = charge?.payment_method_details.card;
  if (!charge || !card || !incrementalRequested(pi)) {
    throw invalidRequest(
      'Incremental authorization is not available for this PaymentIntent: it was not requested with ' +
        'payment_method_options[card][request_incremental_authorization] when the PaymentIntent was confirmed.',
    );
  }
  // "This amount must be greater than the currently authorized amount" (PaymentIntentIncrementAuthorizationParams).
  if (amount <= pi.amount)
    throw invalidRequest(
      `The amount (${amount}) must be greater than the currently authorized amount (${pi.amount}).`,
      undefined,
      'amount',
    );
  checkChargeAmount(amount, pi.currency, 'amount');
  const metadata = metadataParam(params, pi.metadata);
  const description = optString(params, 'description');
  const before = snapshot(state, charge);
  charge.amount = amount;
  card.amount_authorized = amount;
  card.overcapture = { maximum_amount_capturable: amount, status: 'unavailable' };
  emitUpdated(state, 'charge.updated', charge, before);
  pi.amount = amount;
  pi.amount_capturable = amount;
  pi.metadata = metadata;
  if (description !== undefined) pi.description = description;
  emit(state, 'payment_intent.amount_capturable_updated', pi);
  return pi;
}
