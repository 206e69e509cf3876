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
import { createPaymentMethod } from './payment-method-create.js';
import { afterPaymentAttempt, checkPaymentMethodUse } from './payment-methods.js';
import { invalidRequest, parameterUnknown, resourceMissing, StripeApiError, unexpectedState } from './errors.js';
import { emit } from './events.js';
import type { FormObject } from './form.js';
import { checkKnown, metadataParam, optBool, optEnum, optString, reqInt, reqString, stringList } from './params.js';
import { attempt, type AttemptOptions } from './payment-attempts.js';
import {
  automaticPaymentMethodsParam,
  checkConfirmable,
  CREATE_EXTRA_PARAMS,
  createExtras,
  mandateDataParam,
  nested,
  onlyWithConfirm,
  paymentMethodOptionsParam,
} from './payment-intent-params.js';
import { render } from './render.js';
import { randomToken, type EmulatorState } from './state.js';
import type { CaptureMethod, PaymentIntent, PaymentMethod } from './types.js';

export { cancelPaymentIntent, capturePaymentIntent } from './payment-intent-capture.js';

const METHOD_TYPES = ['card', 'us_bank_account'] as const;

/** A PaymentMethod must be of a type the PaymentIntent takes, and a bank debit must fit its currency/capture. */
export function checkFits(
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

/**
 * The payment method types a request restricts the PaymentIntent to: `allowed_payment_method_types`, the name since
 * API 2026-09-30 (stripe-node 23.0.0 CHANGELOG: "Remove support for `payment_method_types` on
 * PaymentIntentConfirmParams, PaymentIntentCreateParams, PaymentIntentUpdateParams"), or `payment_method_types`,
 * still taken for clients on older API versions. Either turns automatic payment methods off.
 */
export function methodTypesParam(params: FormObject): string[] {
  if (params.allowed_payment_method_types !== undefined && params.payment_method_types !== undefined) {
    throw invalidRequest(
      'You may only specify one of these parameters: allowed_payment_method_types, payment_method_types.',
      undefined,
      'allowed_payment_method_types',
    );
  }
  const name =
    params.allowed_payment_method_types !== undefined ? 'allowed_payment_method_types' : 'payment_method_types';
  const types = stringList(params, name);
  if (types.some((t) => !(METHOD_TYPES as readonly string[]).includes(t))) {
    throw invalidRequest(
      'The emulator supports card and us_bank_account payments only.',
      'payment_method_type_invalid',
      name,
    );
  }
  return types;
}

/**
 * `payment_method_data`: "If provided, this hash will be used to create a PaymentMethod. The new PaymentMethod will
 * appear in the payment_method property on the PaymentIntent" (PaymentIntentCreateParams), with POST
 * /v1/payment_methods' rules (payment-method-create.ts: cards from test tokens, ACH test accounts).
 */
function paymentMethodFromData(state: EmulatorState, params: FormObject): PaymentMethod | undefined {
  const data = params.payment_method_data;
  if (data === undefined || data === '') return undefined;
  if (params.payment_method !== undefined)
    throw invalidRequest(
      'You may only specify one of these parameters: payment_method, payment_method_data.',
      undefined,
      'payment_method_data',
    );
  if (typeof data !== 'object' || Array.isArray(data))
    throw invalidRequest(
      'Invalid payment_method_data: must be a hash',
      'parameter_invalid_string',
      'payment_method_data',
    );
  const { type, card, us_bank_account, billing_details, metadata, allow_redisplay, ...rest } = data;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) throw parameterUnknown(`payment_method_data[${unknown}]`);
  const fields = { type, card, us_bank_account, billing_details, metadata, allow_redisplay };
  const pmParams = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as FormObject;
  return nested('payment_method_data', () => createPaymentMethod(state, pmParams));
}

export const METHOD_TYPE_PARAMS = ['allowed_payment_method_types', 'payment_method_types'] as const;

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
    ...METHOD_TYPE_PARAMS,
    'automatic_payment_methods',
    'setup_future_usage',
    'receipt_email',
    'statement_descriptor_suffix',
    'expand',
    'error_on_requires_action',
    ...CREATE_EXTRA_PARAMS,
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
  const returnUrl = optString(params, 'return_url');
  const mandateData = mandateDataParam(params);
  // "This parameter can only be used with confirm=true" (PaymentIntentCreateParams.return_url, .mandate_data).
  if (!confirm && returnUrl !== undefined) throw onlyWithConfirm('return_url');
  if (!confirm && mandateData !== undefined) throw onlyWithConfirm('mandate_data');
  // 3-D Secure handling of the confirmation (payment-attempts.ts AttemptOptions); confirm=true only as well.
  const errorOnRequiresAction = optBool(params, 'error_on_requires_action');
  if (!confirm && errorOnRequiresAction !== undefined) throw onlyWithConfirm('error_on_requires_action');
  const customerId = optString(params, 'customer');
  if (customerId !== undefined) requireCustomer(state, customerId);
  const types = methodTypesParam(params);
  // Automatic payment methods: cards, and ACH Direct Debit for usd
  // (docs.stripe.com/payments/ach-direct-debit/accept-a-payment).
  const automatic = automaticPaymentMethodsParam(params);
  if (automatic?.enabled === true && types.length > 0) {
    throw invalidRequest(
      'You may only specify one of these parameters: automatic_payment_methods, allowed_payment_method_types.',
      undefined,
      'automatic_payment_methods',
    );
  }
  const automaticOn = types.length === 0 && automatic?.enabled !== false;
  const methodTypes =
    types.length > 0 ? types : automaticOn && currency === 'usd' ? ['card', 'us_bank_account'] : ['card'];
  const extra = createExtras(params, amount);
  // Created (from payment_method_data) or resolved last, once every other parameter is known to be valid.
  const pmId = optString(params, 'payment_method');
  const fromData = paymentMethodFromData(state, params);
  const pm = fromData ?? (pmId === undefined ? undefined : resolvePaymentMethod(state, pmId));
  if (pm) checkPaymentMethodUse(state, pm, customerId ?? null); // saved-card rules (payment-methods.ts)
  if (pm) checkFits({ currency, capture_method: captureMethod, payment_method_types: methodTypes }, pm);
  const id = state.newId('pi');
  const pi: PaymentIntent = {
    id,
    object: 'payment_intent',
    amount,
    amount_capturable: 0,
    amount_details: { tip: {} },
    amount_received: 0,
    // v23 fields (PaymentIntents.d.ts) the emulator does not model: typed as always present, so present as null.
    allowed_payment_method_types: types.length > 0 ? types : null,
    customer_account: null,
    managed_payments: null,
    payment_record: null,
    application: null,
    application_fee_amount: extra.application_fee_amount,
    // Since API 2023-08-16 automatic payment methods are on unless payment_method_types is given, with
    // allow_redirects 'always' unless the request says 'never'.
    automatic_payment_methods: types.length > 0 ? null : (automatic ?? { allow_redirects: 'always', enabled: true }),
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
    on_behalf_of: extra.on_behalf_of,
    payment_method: pm?.id ?? null,
    payment_method_configuration_details: null,
    payment_method_options: paymentMethodOptionsParam(params, {
      card: { installments: null, mandate_options: null, network: null, request_three_d_secure: 'automatic' },
      ...(methodTypes.includes('us_bank_account') ? { us_bank_account: { verification_method: 'automatic' } } : {}),
    }),
    payment_method_types: methodTypes,
    processing: null,
    receipt_email: optString(params, 'receipt_email') ?? null,
    review: null,
    setup_future_usage: optEnum(params, 'setup_future_usage', ['off_session', 'on_session'] as const) ?? null,
    shipping: extra.shipping,
    source: null,
    statement_descriptor: extra.statement_descriptor,
    statement_descriptor_suffix: extra.statement_descriptor_suffix,
    status: pm ? 'requires_confirmation' : 'requires_payment_method',
    transfer_data: extra.transfer_data,
    transfer_group: null,
  };
  if (confirm && pm) checkConfirmable(pi, pm, returnUrl);
  state.put(pi);
  if (mandateData !== undefined) state.meta(pi.id).mandateData = mandateData;
  emit(state, 'payment_intent.created', pi);
  if (!confirm) return { pi };
  const result = attempt(state, pi, offSession ?? false, attemptOptions(returnUrl, errorOnRequiresAction));
  afterPaymentAttempt(state, pi, pm?.id ?? null); // attach (setup_future_usage) or spend the PaymentMethod
  return { pi, ...result };
}

function attemptOptions(returnUrl: string | undefined, errorOnRequiresAction: boolean | undefined): AttemptOptions {
  return {
    ...(returnUrl === undefined ? {} : { returnUrl }),
    ...(errorOnRequiresAction === undefined ? {} : { errorOnRequiresAction }),
  };
}

const CONFIRMABLE = ['requires_payment_method', 'requires_confirmation', 'requires_action'] as const;

export function confirmPaymentIntent(
  state: EmulatorState,
  pi: PaymentIntent,
  params: FormObject,
): { error?: StripeApiError } {
  checkKnown(params, [
    'payment_method',
    'off_session',
    'expand',
    'return_url',
    'setup_future_usage',
    'receipt_email',
    'capture_method',
    ...METHOD_TYPE_PARAMS,
    'error_on_requires_action',
  ]);
  if (!(CONFIRMABLE as readonly string[]).includes(pi.status))
    throw unexpectedState('confirmed', pi.status, CONFIRMABLE, render(state, pi));
  // Confirm may change how the payment is made (PaymentIntentConfirmParams): everything is checked first, then
  // applied, so a refused confirmation changes nothing.
  const captureMethod =
    optEnum(params, 'capture_method', ['automatic', 'automatic_async', 'manual'] as const) ?? pi.capture_method;
  const types = methodTypesParam(params);
  const target = {
    currency: pi.currency,
    capture_method: captureMethod,
    payment_method_types: types.length > 0 ? types : pi.payment_method_types,
    automatic_payment_methods: types.length > 0 ? null : pi.automatic_payment_methods,
    statement_descriptor: pi.statement_descriptor,
  };
  const pmId = optString(params, 'payment_method');
  const pm =
    pmId !== undefined
      ? resolvePaymentMethod(state, pmId)
      : state.find<PaymentMethod>(pi.payment_method ?? '', 'payment_method');
  if (pm === undefined) {
    throw invalidRequest(
      'This PaymentIntent has no payment method: pass payment_method to confirm it.',
      'payment_intent_unexpected_state',
      'payment_method',
    );
  }
  checkFits(target, pm);
  checkConfirmable(target, pm, optString(params, 'return_url'));
  checkPaymentMethodUse(state, pm, pi.customer); // saved-card rules (payment-methods.ts)
  const futureUsage = optEnum(params, 'setup_future_usage', ['off_session', 'on_session'] as const);
  const receiptEmail = optString(params, 'receipt_email');
  pi.payment_method = pm.id;
  pi.capture_method = captureMethod;
  if (types.length > 0) {
    pi.payment_method_types = types;
    pi.allowed_payment_method_types = types;
    pi.automatic_payment_methods = null;
  }
  if (receiptEmail !== undefined) pi.receipt_email = receiptEmail;
  if (futureUsage !== undefined) pi.setup_future_usage = futureUsage;
  const options = attemptOptions(optString(params, 'return_url'), optBool(params, 'error_on_requires_action'));
  const result = attempt(state, pi, optBool(params, 'off_session') ?? false, options);
  afterPaymentAttempt(state, pi, pm.id); // attach (setup_future_usage) or spend the PaymentMethod
  return result;
}
