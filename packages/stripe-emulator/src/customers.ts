// Customers (create, retrieve, update, delete; lists and search: customer-lists.ts), PaymentMethod attach, and the PaymentMethod objects of
// Stripe's test ids. A magic test id (pm_card_visa, ...) passed anywhere a PaymentMethod is expected creates a new
// `pm_...` PaymentMethod that keeps the test card's behaviour, each time it is used, as Stripe does
// (docs.stripe.com/testing: "By default, a PaymentMethod isn't attached to a Customer").
import { ADDRESS_FIELDS, addressFrom, hashParam } from './card-params.js';
import { invalidRequest, parameterMissing, resourceMissing } from './errors.js';
import { emit, emitUpdated, snapshot } from './events.js';
import type { FormObject } from './form.js';
import { checkKnown, metadataParam, optEnum, optString, reqString, stringList } from './params.js';
import { attachTo, checkPaymentMethodUse, isConsumed, notTheCustomers, reuseError } from './payment-methods.js';
import { expansions, render } from './render.js';
import { randomToken, type EmulatorState } from './state.js';
import { lookupTestCard, TEST_CARDS, type TestCard } from './test-cards.js';
import type { Customer, PaymentMethod } from './types.js';

type Json = Record<string, unknown>;

const nullAddress = (): Record<string, null> => ({
  city: null,
  country: null,
  line1: null,
  line2: null,
  postal_code: null,
  state: null,
});

function cardFromTest(state: EmulatorState, card: TestCard): Record<string, unknown> {
  return {
    brand: card.brand,
    checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' },
    country: card.country,
    display_brand: card.brand,
    exp_month: 12,
    exp_year: state.now().getUTCFullYear() + 3,
    fingerprint: randomToken(16),
    funding: card.funding,
    generated_from: null,
    last4: card.last4,
    networks: { available: [card.brand], preferred: null },
    regulated_status: 'unregulated',
    three_d_secure_usage: { supported: true },
    wallet: null,
  };
}

/** PaymentMethods.d.ts `UsBankAccount`; values from Stripe's ACH test accounts (test-cards.ts). */
function bankAccountFromTest(card: TestCard): Record<string, unknown> {
  return {
    account_holder_type: 'individual',
    account_type: 'checking',
    bank_name: card.brand,
    financial_connections_account: null,
    fingerprint: randomToken(16),
    last4: card.last4,
    networks: { preferred: 'ach', supported: ['ach'] },
    routing_number: '110000000',
    status_details: {},
  };
}

export function newPaymentMethod(state: EmulatorState, key: string, card: TestCard): PaymentMethod {
  const type = card.type ?? 'card';
  const pm: PaymentMethod = {
    id: state.newId('pm'),
    object: 'payment_method',
    allow_redisplay: 'unspecified',
    billing_details: {
      address: nullAddress(),
      email: null,
      name: type === 'card' ? null : 'Jenny Rosen',
      phone: null,
      tax_id: null,
    },
    ...(type === 'card' ? { card: cardFromTest(state, card) } : { us_bank_account: bankAccountFromTest(card) }),
    created: state.nowSeconds(),
    customer: null,
    customer_account: null,
    livemode: false,
    metadata: {},
    type,
  };
  state.meta(pm.id).testCard = key;
  return state.put(pm);
}

/** The PaymentMethod for an id: a stored one, or a new one for a magic test id; 404 otherwise. */
export function resolvePaymentMethod(state: EmulatorState, id: string, param = 'payment_method'): PaymentMethod {
  const stored = state.find<PaymentMethod>(id, 'payment_method');
  if (stored) return stored;
  const test = lookupTestCard(id);
  if (!test) throw resourceMissing('PaymentMethod', id, param);
  return newPaymentMethod(state, test.key, test.card);
}

export function testCardOf(state: EmulatorState, pm: PaymentMethod): TestCard {
  const key = state.internal.get(pm.id)?.testCard ?? 'pm_card_visa';
  return TEST_CARDS[key] ?? (TEST_CARDS.pm_card_visa as TestCard);
}

/** A customer that exists and is not deleted (404 otherwise, as Stripe answers for a deleted one in a parameter). */
export function requireCustomer(state: EmulatorState, id: string, param = 'customer'): Customer {
  const c = state.find<Customer>(id, 'customer');
  if (!c || c.deleted === true) throw resourceMissing('customer', id, param);
  return c;
}

/** GET /v1/customers/:id: a deleted customer is still retrievable as {id, object, deleted: true} (Customers.d.ts
 * `retrieve` answers `Customer | DeletedCustomer`). */
export function retrieveCustomer(state: EmulatorState, id: string, params: FormObject): Json {
  checkKnown(params, ['expand']);
  const c = state.find<Customer>(id, 'customer');
  if (!c) throw resourceMissing('customer', id, 'id');
  return render(state, c, c.deleted === true ? [] : expansions(params));
}

/** `address` (an empty string unsets it: Emptyable<AddressParam>). */
function addressParam(params: FormObject): Json | null | undefined {
  const given = hashParam(params, 'address', ADDRESS_FIELDS);
  if (given === undefined) return undefined;
  return Object.keys(given).length === 0 ? null : addressFrom(given);
}

/** `shipping` (CustomerCreateParams.Shipping: address and name required, phone; '' unsets it). */
function shippingParam(params: FormObject): Json | null | undefined {
  const given = hashParam(params, 'shipping', ['address', 'name', 'phone']);
  if (given === undefined) return undefined;
  if (Object.keys(given).length === 0) return null;
  const address = hashParam(given, 'address', ADDRESS_FIELDS, 'shipping[address]');
  if (address === undefined) throw parameterMissing('shipping[address]');
  return {
    address: addressFrom(address),
    name: reqString(given, 'name'),
    phone: optString(given, 'phone') ?? null,
  };
}

const TAX_EXEMPT = ['none', 'exempt', 'reverse'] as const;

/** invoice_settings[default_payment_method]: must be one of this customer's PaymentMethods. */
function invoiceSettingsParam(
  state: EmulatorState,
  params: FormObject,
  customerId: string,
  base: Json,
  attaching?: string,
): Json {
  const given = hashParam(params, 'invoice_settings', [
    'default_payment_method',
    'custom_fields',
    'footer',
    'rendering_options',
  ]);
  if (given === undefined) return base;
  const out = { ...base };
  if (given.footer !== undefined) out.footer = optString(given, 'footer') ?? null;
  if (given.default_payment_method !== undefined) {
    const param = 'invoice_settings[default_payment_method]';
    const id = optString(given, 'default_payment_method');
    if (id !== undefined) {
      const pm = state.find<PaymentMethod>(id, 'payment_method');
      if (!pm) throw resourceMissing('PaymentMethod', id, param);
      if (pm.customer !== customerId && pm.id !== attaching) throw notTheCustomers(id, param);
    }
    out.default_payment_method = id ?? null;
  }
  return out;
}

const CREATE_PARAMS = [
  'email',
  'name',
  'description',
  'phone',
  'metadata',
  'payment_method',
  'address',
  'shipping',
  'tax_exempt',
  'invoice_settings',
  'preferred_locales',
  'expand',
];

/** POST /v1/customers; `payment_method` attaches that PaymentMethod (it may then be the invoice default). */
export function createCustomer(state: EmulatorState, params: FormObject): Customer {
  checkKnown(params, CREATE_PARAMS);
  const id = state.newId('cus');
  const metadata = metadataParam(params);
  const address = addressParam(params);
  const shipping = shippingParam(params);
  const taxExempt = optEnum(params, 'tax_exempt', TAX_EXEMPT) ?? 'none';
  const locales = stringList(params, 'preferred_locales');
  const pmId = optString(params, 'payment_method');
  const stored = pmId === undefined ? undefined : state.find<PaymentMethod>(pmId, 'payment_method');
  if (stored && isConsumed(state, stored)) throw reuseError();
  if (stored && stored.customer !== null) {
    throw invalidRequest(
      'The payment method you provided has already been attached to a customer.',
      undefined,
      'payment_method',
    );
  }
  if (pmId !== undefined && !stored && !lookupTestCard(pmId))
    throw resourceMissing('PaymentMethod', pmId, 'payment_method');
  // default_payment_method may name the PaymentMethod being attached.
  const settingsBase: Json = {
    custom_fields: null,
    default_payment_method: null,
    footer: null,
    rendering_options: null,
  };
  const invoiceSettings = invoiceSettingsParam(state, params, id, settingsBase, stored?.id);
  const customer: Customer = {
    id,
    object: 'customer',
    address: address ?? null,
    balance: 0,
    created: state.nowSeconds(),
    currency: null,
    customer_account: null,
    default_source: null,
    delinquent: false,
    description: optString(params, 'description') ?? null,
    discount: null,
    email: optString(params, 'email') ?? null,
    invoice_prefix: randomToken(8).toUpperCase(),
    invoice_settings: invoiceSettings,
    livemode: false,
    metadata,
    name: optString(params, 'name') ?? null,
    next_invoice_sequence: 1,
    phone: optString(params, 'phone') ?? null,
    preferred_locales: locales,
    shipping: shipping ?? null,
    tax_exempt: taxExempt,
    test_clock: null,
  };
  const pm = pmId === undefined ? undefined : resolvePaymentMethod(state, pmId);
  state.put(customer);
  emit(state, 'customer.created', customer);
  if (pm) attachTo(state, pm, customer);
  return customer;
}

const UPDATE_PARAMS = [
  'email',
  'name',
  'description',
  'phone',
  'metadata',
  'address',
  'shipping',
  'tax_exempt',
  'invoice_settings',
  'preferred_locales',
  'expand',
];

/** POST /v1/customers/:id; records customer.updated with previous_attributes when something changed. */
export function updateCustomer(state: EmulatorState, id: string, params: FormObject): Customer {
  checkKnown(params, UPDATE_PARAMS);
  const customer = requireCustomer(state, id, 'id');
  // Validate everything before changing anything.
  const metadata = metadataParam(params, customer.metadata as Record<string, string>);
  const address = addressParam(params);
  const shipping = shippingParam(params);
  const taxExempt = params.tax_exempt === '' ? 'none' : optEnum(params, 'tax_exempt', TAX_EXEMPT);
  const settings = invoiceSettingsParam(state, params, customer.id, customer.invoice_settings as Json);
  const strings: Json = {};
  for (const field of ['email', 'name', 'description', 'phone'] as const) {
    if (params[field] !== undefined) strings[field] = optString(params, field) ?? null;
  }
  const locales = params.preferred_locales === undefined ? undefined : stringList(params, 'preferred_locales');
  const before = snapshot(state, customer);
  Object.assign(customer, strings);
  customer.metadata = metadata;
  customer.invoice_settings = settings;
  if (address !== undefined) customer.address = address;
  if (shipping !== undefined) customer.shipping = shipping;
  if (taxExempt !== undefined) customer.tax_exempt = taxExempt;
  if (locales !== undefined) customer.preferred_locales = locales;
  emitUpdated(state, 'customer.updated', customer, before);
  return customer;
}

/** DELETE /v1/customers/:id: customer.deleted carries the customer as it was; what stays is the deleted stub. */
export function deleteCustomer(state: EmulatorState, id: string, params: FormObject): Json {
  checkKnown(params, []);
  const customer = requireCustomer(state, id, 'id');
  emit(state, 'customer.deleted', customer);
  const stub: Customer = { id: customer.id, object: 'customer', deleted: true };
  state.put(stub);
  return { ...stub };
}

/**
 * POST /v1/payment_methods/:id/attach. A spent PaymentMethod (used without a customer, or detached) cannot be
 * attached (payment-methods.ts, REUSE_MESSAGE); nor can one attached to another customer.
 */
export function attachPaymentMethod(state: EmulatorState, id: string, params: FormObject): PaymentMethod {
  checkKnown(params, ['customer', 'expand']);
  const customer = requireCustomer(state, reqString(params, 'customer'));
  const stored = state.find<PaymentMethod>(id, 'payment_method');
  if (stored && isConsumed(state, stored)) throw reuseError();
  if (stored && stored.customer !== null && stored.customer !== customer.id) {
    throw invalidRequest(
      'The payment method you provided has already been attached to a customer.',
      'payment_method_unexpected_state',
      'payment_method',
    );
  }
  const pm = resolvePaymentMethod(state, id, 'payment_method');
  attachTo(state, pm, customer);
  return pm;
}

/** The PaymentMethod for a PaymentIntent's or SetupIntent's `payment_method` (creating one for a magic id), checked
 * against the intent's customer (payment-methods.ts). */
export function usablePaymentMethod(
  state: EmulatorState,
  id: string,
  customer: string | null,
  intent: 'PaymentIntent' | 'SetupIntent' = 'PaymentIntent',
): PaymentMethod {
  const stored = state.find<PaymentMethod>(id, 'payment_method');
  if (stored) checkPaymentMethodUse(state, stored, customer, intent);
  return stored ?? resolvePaymentMethod(state, id);
}
