// Customers and PaymentMethods. A magic test id (pm_card_visa, ...) passed anywhere a PaymentMethod is expected
// creates a new `pm_...` card PaymentMethod that keeps the test card's behaviour, as Stripe does.
import { invalidRequest, resourceMissing } from './errors.js';
import { emit } from './events.js';
import type { FormObject } from './form.js';
import { checkKnown, metadataParam, optString, reqString } from './params.js';
import { randomToken, type EmulatorState } from './state.js';
import { lookupTestCard, TEST_CARDS, type TestCard } from './test-cards.js';
import type { Customer, PaymentMethod } from './types.js';

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

function newPaymentMethod(state: EmulatorState, key: string, card: TestCard): PaymentMethod {
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

export function requireCustomer(state: EmulatorState, id: string, param = 'customer'): Customer {
  const c = state.find<Customer>(id, 'customer');
  if (!c) throw resourceMissing('customer', id, param);
  return c;
}

export function createCustomer(state: EmulatorState, params: FormObject): Customer {
  checkKnown(params, ['email', 'name', 'description', 'phone', 'metadata', 'payment_method', 'expand']);
  const customer: Customer = {
    id: state.newId('cus'),
    object: 'customer',
    address: null,
    balance: 0,
    created: state.nowSeconds(),
    currency: null,
    default_source: null,
    delinquent: false,
    description: optString(params, 'description') ?? null,
    discount: null,
    email: optString(params, 'email') ?? null,
    invoice_prefix: randomToken(8).toUpperCase(),
    invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
    livemode: false,
    metadata: metadataParam(params),
    name: optString(params, 'name') ?? null,
    next_invoice_sequence: 1,
    phone: optString(params, 'phone') ?? null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    test_clock: null,
  };
  const pmId = optString(params, 'payment_method');
  const pm = pmId === undefined ? undefined : resolvePaymentMethod(state, pmId);
  state.put(customer);
  emit(state, 'customer.created', customer);
  if (pm) {
    pm.customer = customer.id;
    emit(state, 'payment_method.attached', pm);
  }
  return customer;
}

export function attachPaymentMethod(state: EmulatorState, id: string, params: FormObject): PaymentMethod {
  checkKnown(params, ['customer', 'expand']);
  const customer = requireCustomer(state, reqString(params, 'customer'));
  const pm = resolvePaymentMethod(state, id, 'payment_method');
  if (pm.customer !== null && pm.customer !== customer.id) {
    throw invalidRequest(
      `The PaymentMethod ${pm.id} is already attached to another customer; detach it first.`,
      'payment_method_unexpected_state',
      'payment_method',
    );
  }
  if (pm.customer !== customer.id) {
    pm.customer = customer.id;
    emit(state, 'payment_method.attached', pm);
  }
  return pm;
}
