// POST /v1/payment_methods (PaymentMethodCreateParams in the SDK's PaymentMethods.d.ts): cards from Stripe's test
// tokens, ACH accounts from Stripe's test account numbers. Everything is validated before the PaymentMethod is stored.
import { ADDRESS_FIELDS, billingDetails, hashParam } from './card-params.js';
import { newPaymentMethod } from './customers.js';
import { invalidRequest, parameterMissing, resourceMissing } from './errors.js';
import type { FormObject } from './form.js';
import { checkKnown, metadataParam, optEnum, reqString } from './params.js';
import type { EmulatorState } from './state.js';
import { lookupTestCard } from './test-cards.js';
import type { PaymentMethod } from './types.js';

const CREATE_PARAMS = [
  'type',
  'card',
  'us_bank_account',
  'billing_details',
  'metadata',
  'allow_redisplay',
  'customer',
  'payment_method',
  'expand',
];

/** ACH test accounts (docs.stripe.com/payments/ach-direct-debit/accept-a-payment, "Test account numbers"). */
const BANK_TEST_ACCOUNTS: Readonly<Record<string, string>> = {
  '000123456789': 'pm_usBankAccount',
  '000222222227': 'pm_usBankAccount_insufficientFunds',
};

/**
 * POST /v1/payment_methods. Cards from a test token (`card[token]=tok_visa`, the `tok_` twin of each `pm_card_`
 * test id); raw card numbers are refused as Stripe refuses them by default (docs.stripe.com/testing: "We don't
 * recommend using card numbers directly in API calls"). ACH accounts from Stripe's test account numbers.
 */
export function createPaymentMethod(state: EmulatorState, params: FormObject): PaymentMethod {
  checkKnown(params, CREATE_PARAMS);
  if (params.customer !== undefined || params.payment_method !== undefined) {
    // PaymentMethodCreateParams: `customer` and `payment_method` clone a PaymentMethod for a connected account.
    throw invalidRequest(
      'The emulator does not model Connect: cloning a PaymentMethod (customer, payment_method) is not supported.',
      undefined,
      params.customer !== undefined ? 'customer' : 'payment_method',
    );
  }
  const type = optEnum(params, 'type', ['card', 'us_bank_account'] as const);
  if (type === undefined) {
    if (params.type === undefined) throw parameterMissing('type');
    throw invalidRequest('The emulator supports card and us_bank_account PaymentMethods only.', undefined, 'type');
  }
  // Everything is validated before the PaymentMethod is stored.
  const billing = billingDetails(params, {
    address: Object.fromEntries(ADDRESS_FIELDS.map((f) => [f, null])),
    email: null,
    name: null,
    phone: null,
    tax_id: null,
  });
  const metadata = metadataParam(params);
  const redisplay = optEnum(params, 'allow_redisplay', ['always', 'limited', 'unspecified'] as const);
  const build = type === 'card' ? cardFromParams(params) : bankAccountFromParams(params, billing);
  const pm = build(state);
  pm.billing_details = billing;
  pm.metadata = metadata;
  pm.allow_redisplay = redisplay ?? 'unspecified';
  return pm;
}

/** `tok_visa` is the token twin of `pm_card_visa`, `tok_chargeDeclinedExpiredCard` of
 * `pm_card_chargeDeclinedExpiredCard`, and so on (docs.stripe.com/testing lists both columns). */
function testToken(token: string): ReturnType<typeof lookupTestCard> {
  return token.startsWith('tok_') ? lookupTestCard(`pm_card_${token.slice(4)}`) : undefined;
}

type Builder = (state: EmulatorState) => PaymentMethod;

function cardFromParams(params: FormObject): Builder {
  if (params.us_bank_account !== undefined)
    throw invalidRequest('us_bank_account cannot be given with type card.', undefined, 'us_bank_account');
  const card = hashParam(params, 'card', ['token', 'number', 'exp_month', 'exp_year', 'cvc', 'networks']);
  if (card === undefined) throw parameterMissing('card');
  if (card.number !== undefined) {
    throw invalidRequest(
      'Sending credit card numbers directly to the Stripe API is generally unsafe. Use a test token such as ' +
        'card[token]=tok_visa, or a test PaymentMethod such as pm_card_visa (docs.stripe.com/testing).',
      undefined,
      'card[number]',
    );
  }
  const token = reqString(card, 'token');
  const test = testToken(token);
  if (!test) throw resourceMissing('token', token, 'card[token]');
  return (state) => newPaymentMethod(state, test.key, test.card);
}

function bankAccountFromParams(params: FormObject, billing: Record<string, unknown>): Builder {
  if (params.card !== undefined)
    throw invalidRequest('card cannot be given with type us_bank_account.', undefined, 'card');
  const bank = hashParam(params, 'us_bank_account', [
    'account_number',
    'routing_number',
    'account_holder_type',
    'account_type',
    'financial_connections_account',
  ]);
  if (bank === undefined) throw parameterMissing('us_bank_account');
  const number = reqString(bank, 'account_number');
  const routing = reqString(bank, 'routing_number');
  if (!/^\d{9}$/.test(routing))
    throw invalidRequest(
      'Routing number must have 9 digits.',
      'routing_number_invalid',
      'us_bank_account[routing_number]',
    );
  if (!/^\d{4,17}$/.test(number))
    throw invalidRequest(
      'Account number must have 4 to 17 digits.',
      'account_number_invalid',
      'us_bank_account[account_number]',
    );
  const holder = optEnum(bank, 'account_holder_type', ['individual', 'company'] as const) ?? 'individual';
  const accountType = optEnum(bank, 'account_type', ['checking', 'savings'] as const) ?? 'checking';
  // us_bank_account PaymentMethods need the account holder's name (PaymentMethodCreateParams.BillingDetails).
  if (billing.name == null) throw parameterMissing('billing_details[name]');
  const test = lookupTestCard(BANK_TEST_ACCOUNTS[number] ?? 'pm_usBankAccount');
  if (!test) throw resourceMissing('PaymentMethod', number);
  return (state) => {
    const pm = newPaymentMethod(state, test.key, { ...test.card, last4: number.slice(-4) });
    const account = pm.us_bank_account as Record<string, unknown>;
    account.routing_number = routing;
    account.account_holder_type = holder;
    account.account_type = accountType;
    return pm;
  };
}
