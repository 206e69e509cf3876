// SetupIntents: create and confirm; update, cancel and list are in setup-intent-updates.ts (SetupIntents.d.ts;
// docs.stripe.com/api/setup_intents, docs.stripe.com/payments/setup-intents). Status flow:
//   requires_payment_method -(payment_method)-> requires_confirmation -(confirm)-> one of
//     succeeded        the PaymentMethod needs nothing more: attached to the customer, if there is one
//     requires_action  3-D Secure (pm_card_authenticationRequired, pm_card_threeDSecure2Required): next_action
//                      use_stripe_sdk, or redirect_to_url with a return_url; the PaymentMethod is attached only once
//                      the customer authenticates (controls.authenticateSetupIntent: succeeded, or failed back to
//                      requires_payment_method with last_setup_error setup_intent_authentication_failure)
//     requires_payment_method  a declining card: 402 card_error with last_setup_error, setup_intent.setup_failed
//                      (docs.stripe.com/testing: only 4000000000000341 "attaching succeeds, charges fail", so the
//                      other decline cards fail the setup)
//   any of the first three -(cancel)-> canceled.
// Events: setup_intent.created, .requires_action, .succeeded, .setup_failed, .canceled; payment_method.attached.
// Without a customer a succeeded SetupIntent leaves its PaymentMethod unattached and still usable: Stripe's docs
// let it be attached to a customer afterwards (docs.stripe.com/api/setup_intents/create, `customer`).
import { requireCustomer, testCardOf, usablePaymentMethod } from './customers.js';
import { docUrl, invalidRequest, resourceMissing, StripeApiError } from './errors.js';
import { emit } from './events.js';
import type { FormObject } from './form.js';
import { checkKnown, metadataParam, optBool, optEnum, optString, stringList } from './params.js';
import { automaticPaymentMethodsParam, RETURN_URL_REQUIRED } from './payment-intent-params.js';
import { methodTypesParam } from './payment-intents.js';
import { attachTo } from './payment-methods.js';
import { render } from './render.js';
import { randomToken, type EmulatorState } from './state.js';
import type { Customer, PaymentMethod, SetupIntent } from './types.js';

type Json = Record<string, unknown>;

export function requireSetupIntent(state: EmulatorState, id: string, param = 'intent'): SetupIntent {
  const si = state.find<SetupIntent>(id, 'setup_intent');
  if (!si) throw resourceMissing('setup_intent', id, param);
  return si;
}

/** `setup_intent_unexpected_state` (docs.stripe.com/error-codes), with the SetupIntent in the body as Stripe does
 * for the PaymentIntent's equivalent. */
export function unexpectedState(
  state: EmulatorState,
  si: SetupIntent,
  action: string,
  allowed: readonly string[],
): StripeApiError {
  const err = invalidRequest(
    `You cannot ${action} this SetupIntent because it has a status of ${si.status}; ` +
      `allowed statuses: ${allowed.join(', ')}.`,
    'setup_intent_unexpected_state',
  );
  Object.assign(err.body, { setup_intent: render(state, si) });
  return err;
}

const USAGE = ['off_session', 'on_session'] as const;

/**
 * The payment method types: `allowed_payment_method_types` (the name in stripe-node v23's SetupIntentCreateParams,
 * also shown on the object), or the older `payment_method_types`. Cards and ACH only.
 */
export function typesParam(params: FormObject): { types: string[]; allowed: boolean } {
  if (params.allowed_payment_method_types !== undefined && params.payment_method_types !== undefined) {
    throw invalidRequest(
      'You may only specify one of these parameters: allowed_payment_method_types, payment_method_types.',
      undefined,
      'allowed_payment_method_types',
    );
  }
  if (params.allowed_payment_method_types === undefined) return { types: methodTypesParam(params), allowed: false };
  const types = stringList(params, 'allowed_payment_method_types');
  if (types.some((t) => t !== 'card' && t !== 'us_bank_account')) {
    throw invalidRequest(
      'The emulator supports card and us_bank_account only.',
      'payment_method_type_invalid',
      'allowed_payment_method_types',
    );
  }
  return { types, allowed: true };
}

/** The PaymentMethod for `id`, checked against the SetupIntent's customer (payment-methods.ts saved-card rules). */
export function paymentMethodFor(
  state: EmulatorState,
  id: string,
  customer: string | null,
  types: string[],
): PaymentMethod {
  const pm = usablePaymentMethod(state, id, customer, 'SetupIntent');
  if (!types.includes(pm.type)) {
    throw invalidRequest(
      `The PaymentMethod provided (${pm.type}) is not allowed for this SetupIntent (payment_method_types: ${types.join(', ')}).`,
      'payment_intent_incompatible_payment_method',
      'payment_method',
    );
  }
  return pm;
}

const CREATE_PARAMS = [
  'allowed_payment_method_types',
  'customer',
  'payment_method',
  'usage',
  'confirm',
  'payment_method_types',
  'automatic_payment_methods',
  'return_url',
  'metadata',
  'description',
  'expand',
];

/** POST /v1/setup_intents. Returns the SetupIntent and, when confirm=true declined the card, the 402 to answer. */
export function createSetupIntent(
  state: EmulatorState,
  params: FormObject,
): { si: SetupIntent; error?: StripeApiError } {
  checkKnown(params, CREATE_PARAMS);
  const confirm = optBool(params, 'confirm') ?? false;
  const returnUrl = optString(params, 'return_url');
  // "This parameter can only be used with confirm=true" (SetupIntentCreateParams.return_url).
  if (!confirm && returnUrl !== undefined)
    throw invalidRequest('You can only pass return_url together with confirm=true.', undefined, 'return_url');
  const customerId = optString(params, 'customer');
  if (customerId !== undefined) requireCustomer(state, customerId);
  const { types, allowed } = typesParam(params);
  const automatic = automaticPaymentMethodsParam(params);
  if (automatic?.enabled === true && types.length > 0) {
    throw invalidRequest(
      'You may only specify one of these parameters: automatic_payment_methods, payment_method_types.',
      undefined,
      'automatic_payment_methods',
    );
  }
  const usage = optEnum(params, 'usage', USAGE) ?? 'off_session';
  const metadata = metadataParam(params);
  const description = optString(params, 'description') ?? null;
  // Since API 2023-08-16 automatic payment methods are on unless payment_method_types is given
  // (docs.stripe.com/upgrades#2023-08-16), for SetupIntents as for PaymentIntents.
  const methodTypes = types.length > 0 ? types : ['card'];
  const autoPm = types.length > 0 ? null : (automatic ?? { allow_redirects: 'always', enabled: true });
  const pmId = optString(params, 'payment_method');
  if (confirm && pmId === undefined) throw missingPaymentMethod();
  if (confirm) checkRedirects(autoPm, returnUrl);
  const pm = pmId === undefined ? undefined : paymentMethodFor(state, pmId, customerId ?? null, methodTypes);
  const id = state.newId('seti');
  const si: SetupIntent = {
    id,
    object: 'setup_intent',
    allowed_payment_method_types: allowed ? types : null,
    application: null,
    automatic_payment_methods: autoPm,
    cancellation_reason: null,
    client_secret: `${id}_secret_${randomToken(32)}`,
    created: state.nowSeconds(),
    customer: customerId ?? null,
    customer_account: null,
    description,
    excluded_payment_method_types: null,
    flow_directions: null,
    last_setup_error: null,
    latest_attempt: null,
    livemode: false,
    mandate: null,
    metadata,
    next_action: null,
    on_behalf_of: null,
    payment_method: pm?.id ?? null,
    payment_method_configuration_details: null,
    payment_method_options: {
      card: { mandate_options: null, network: null, request_three_d_secure: 'automatic' },
      ...(methodTypes.includes('us_bank_account') ? { us_bank_account: { verification_method: 'automatic' } } : {}),
    },
    payment_method_types: methodTypes,
    single_use_mandate: null,
    status: pm ? 'requires_confirmation' : 'requires_payment_method',
    usage,
  };
  state.put(si);
  emit(state, 'setup_intent.created', si);
  if (!confirm || !pm) return { si };
  return { si, ...setUp(state, si, pm, returnUrl) };
}

function missingPaymentMethod(): StripeApiError {
  return invalidRequest(
    'You cannot confirm this SetupIntent because it has no payment method: pass payment_method.',
    'setup_intent_unexpected_state',
    'payment_method',
  );
}

/** Stripe's return_url rule for automatic payment methods that allow redirects (payment-intent-params.ts); its
 * message names Setup Intents too. */
function checkRedirects(automatic: Json | null | undefined, returnUrl: string | undefined): void {
  const a = automatic as { enabled?: boolean; allow_redirects?: string } | null | undefined;
  if (a?.enabled === true && a.allow_redirects !== 'never' && returnUrl === undefined)
    throw invalidRequest(RETURN_URL_REQUIRED);
}

/** The confirmation: the card's scripted outcome decides (test-cards.ts). */
function setUp(
  state: EmulatorState,
  si: SetupIntent,
  pm: PaymentMethod,
  returnUrl: string | undefined,
): { error?: StripeApiError } {
  si.payment_method = pm.id;
  si.last_setup_error = null;
  si.next_action = null;
  const outcome = testCardOf(state, pm).outcome;
  if (outcome.kind === 'authentication_required') {
    si.status = 'requires_action';
    si.next_action =
      returnUrl === undefined
        ? {
            type: 'use_stripe_sdk',
            use_stripe_sdk: { type: 'three_d_secure_redirect', source: `src_${randomToken(24)}` },
          }
        : {
            type: 'redirect_to_url',
            redirect_to_url: {
              return_url: returnUrl,
              url: `https://hooks.stripe.com/3d_secure_2/hosted?setup_intent=${si.id}&setup_intent_client_secret=${String(si.client_secret)}`,
            },
          };
    emit(state, 'setup_intent.requires_action', si);
    return {};
  }
  if (outcome.kind === 'decline') {
    const error: Json = {
      ...(outcome.adviceCode === undefined ? {} : { advice_code: outcome.adviceCode }),
      code: outcome.code,
      decline_code: outcome.declineCode,
      doc_url: docUrl(outcome.code),
      message: outcome.message,
      ...(outcome.param === undefined ? {} : { param: outcome.param }),
      payment_method: render(state, pm),
      type: 'card_error',
    };
    return { error: failSetup(state, si, error, 402) };
  }
  succeed(state, si, pm);
  return {};
}

function succeed(state: EmulatorState, si: SetupIntent, pm: PaymentMethod): void {
  si.status = 'succeeded';
  si.next_action = null;
  const customer = si.customer === null ? undefined : state.find<Customer>(si.customer, 'customer');
  if (customer && customer.deleted !== true) attachTo(state, pm, customer);
  emit(state, 'setup_intent.succeeded', si);
}

/** The setup failed: back to requires_payment_method with last_setup_error (SetupIntents.d.ts LastSetupError),
 * setup_intent.setup_failed, and the error to answer (card_error 402 on a decline). */
function failSetup(state: EmulatorState, si: SetupIntent, lastError: Json, status: number): StripeApiError {
  si.status = 'requires_payment_method';
  si.payment_method = null;
  si.next_action = null;
  si.last_setup_error = lastError;
  emit(state, 'setup_intent.setup_failed', si);
  const err = new StripeApiError(status, {
    ...(lastError as { type: 'card_error'; message: string }),
  });
  Object.assign(err.body, { setup_intent: render(state, si) });
  return err;
}

export const CONFIRMABLE = ['requires_payment_method', 'requires_confirmation', 'requires_action'] as const;

/** POST /v1/setup_intents/:id/confirm (payment_method, return_url, expand). */
export function confirmSetupIntent(
  state: EmulatorState,
  id: string,
  params: FormObject,
): { si: SetupIntent; error?: StripeApiError } {
  checkKnown(params, ['payment_method', 'return_url', 'use_stripe_sdk', 'allowed_payment_method_types', 'expand']);
  const si = requireSetupIntent(state, id);
  if (!(CONFIRMABLE as readonly string[]).includes(si.status)) throw unexpectedState(state, si, 'confirm', CONFIRMABLE);
  const returnUrl = optString(params, 'return_url');
  const pmId = optString(params, 'payment_method') ?? si.payment_method;
  if (pmId === null) throw missingPaymentMethod();
  checkRedirects(si.automatic_payment_methods as Json | null, returnUrl);
  const { types } = typesParam(params);
  const pm = paymentMethodFor(state, pmId, si.customer, types.length > 0 ? types : si.payment_method_types);
  if (types.length > 0) {
    si.allowed_payment_method_types = types;
    si.payment_method_types = types;
    si.automatic_payment_methods = null;
  }
  return { si, ...setUp(state, si, pm, returnUrl) };
}

/**
 * Test control: the customer completes (`succeed`) or fails (`fail`) the 3-D Secure authentication a
 * `requires_action` SetupIntent waits for. Failing leaves last_setup_error with Stripe's code
 * setup_intent_authentication_failure (docs.stripe.com/error-codes#setup-intent-authentication-failure).
 */
export function authenticateSetupIntent(state: EmulatorState, id: string, outcome: 'succeed' | 'fail'): SetupIntent {
  if (outcome !== 'succeed' && outcome !== 'fail') throw new Error("outcome must be 'succeed' or 'fail'");
  const si = requireSetupIntent(state, id, 'id');
  if (si.status !== 'requires_action') throw unexpectedState(state, si, 'authenticate', ['requires_action']);
  const pm = state.find<PaymentMethod>(si.payment_method ?? '', 'payment_method');
  if (!pm) throw resourceMissing('PaymentMethod', si.payment_method ?? '', 'payment_method');
  if (outcome === 'succeed') {
    succeed(state, si, pm);
    return si;
  }
  failSetup(
    state,
    si,
    {
      code: 'setup_intent_authentication_failure',
      doc_url: docUrl('setup_intent_authentication_failure'),
      message:
        'The latest attempt to set up the payment method has failed because authentication failed. Provide a new ' +
        'payment method to attempt to set it up again.',
      payment_method: render(state, pm),
      type: 'invalid_request_error',
    },
    400,
  );
  return si;
}
