// The legacy Charges API: POST /v1/charges and POST /v1/charges/:id/capture (ChargeCreateParams and
// ChargeCaptureParams in the SDK's Charges.d.ts; "deprecated", still served by Stripe). A charge made here has no
// PaymentIntent (`payment_intent: null`, as in Stripe's own example charge, github.com/stripe/openapi fixtures3.json).
//   create, card approved, capture true (default)   charge.succeeded (captured), with a balance transaction
//   create, card approved, capture false            charge.succeeded (captured false, capture_before = + 7 days)
//   create, card declined                           charge.failed, HTTP 402 card_error carrying `charge`
//   capture                                         charge.captured; a partial capture releases the rest as a
//                                                   Refund (partial_capture_reversal BT): refund.created, charge.refunded
// Fees, balance transactions, declines (codes, advice codes, messages, outcomes) and scripted behaviours
// (pm_card_createDispute, pm_card_refundFail twins) are the PaymentIntent charges' (charges.ts, balance.ts,
// test-cards.ts). What is not modelled: an uncaptured charge does not lapse by itself at capture_before (the
// timeline only watches PaymentIntents); capturing it after that moment is refused as Stripe refuses it.
import { chargeBalanceTransaction, refundBalanceTransaction } from './balance.js';
import { checkChargeAmount, checkCurrency } from './charge-amounts.js';
import { buildCharge, CAPTURE_WINDOW_S, type Failure } from './charges.js';
import { newPaymentMethod, requireCustomer, testCardOf } from './customers.js';
import { openScriptedDispute } from './disputes.js';
import { invalidRequest, resourceMissing, StripeApiError } from './errors.js';
import { emit } from './events.js';
import type { FormObject } from './form.js';
import { checkKnown, metadataParam, optBool, optInt, optString, reqInt, reqString } from './params.js';
import { lastPaymentError } from './payment-attempts.js';
import {
  applicationFeeParam,
  descriptorParam,
  onBehalfOfParam,
  shippingParam,
  transferDataParam,
} from './payment-intent-params.js';
import { buildRefund } from './refunds.js';
import type { EmulatorState } from './state.js';
import { lookupTestCard } from './test-cards.js';
import type { Charge, Customer, PaymentIntent, PaymentMethod } from './types.js';

type Json = Record<string, unknown>;

const CREATE_PARAMS = [
  'amount',
  'currency',
  'source',
  'customer',
  'capture',
  'description',
  'metadata',
  'receipt_email',
  'statement_descriptor',
  'statement_descriptor_suffix',
  'transfer_data',
  'application_fee_amount',
  'on_behalf_of',
  'shipping',
  'expand',
];

/**
 * The card a charge is made on. A test token (`tok_visa`, the twin of `pm_card_visa`, docs.stripe.com/testing lists
 * both) becomes a card whose id starts `card_`, as on Stripe, where the charge's payment_method is that card id
 * (fixtures3.json) and the PaymentMethods API reads `card_` ids; it is stored as a PaymentMethod so that
 * GET /v1/payment_methods/card_… answers and its scripted behaviours follow it. With `customer` and no source, the
 * customer's default: the emulator keeps no legacy sources (`default_source` is always null), so
 * invoice_settings.default_payment_method stands in for it.
 */
function chargedCard(state: EmulatorState, source: string | undefined, customer: Customer | undefined): PaymentMethod {
  if (source === undefined) {
    if (customer === undefined) throw invalidRequest('Must provide source or customer.', 'parameter_missing');
    const settings = customer.invoice_settings as { default_payment_method?: string | null } | undefined;
    const pm = state.find<PaymentMethod>(settings?.default_payment_method ?? '', 'payment_method');
    // Stripe's answer for a customer with nothing to charge, as recorded by the stripe-stateful-mock parity tests
    // (pushplay/stripe-stateful-mock src/api/charges.ts): card_error, code missing, param card.
    if (!pm)
      throw new StripeApiError(402, {
        type: 'card_error',
        code: 'missing',
        message: 'Cannot charge a customer that has no active card',
        param: 'card',
      });
    return pm;
  }
  if (customer !== undefined) {
    // A customer's own PaymentMethod may be named; anything else is not one of its sources: code `missing`, "Both a
    // customer and source ID have been provided, but the source has not been saved to the customer"
    // (docs.stripe.com/error-codes#missing).
    const own = state.find<PaymentMethod>(source, 'payment_method');
    if (own && own.customer === customer.id) return own;
    throw invalidRequest(
      `Customer ${customer.id} does not have a linked source with ID ${source}.`,
      'missing',
      'source',
    );
  }
  const test = source.startsWith('tok_') ? tokenTwin(source.slice(4)) : undefined;
  if (!test || (test.card.type ?? 'card') !== 'card') throw resourceMissing('source', source, 'source');
  const pm = newPaymentMethod(state, test.key, test.card);
  // Re-keyed under a card_ id; a token is single-use, so the card is spent (payment-methods.ts `consumed`).
  state.remove(pm.id);
  state.internal.delete(pm.id);
  pm.id = state.newId('card');
  state.put(pm);
  Object.assign(state.meta(pm.id), { testCard: test.key, consumed: true });
  return pm;
}

/** The test card of a token: `tok_visa` is `pm_card_visa`'s twin; the older spelling without the brand
 * (`tok_chargeDeclinedInsufficientFunds`, which the stripe-stateful-mock parity tests charge on Stripe) names the Visa
 * card (`pm_card_visa_chargeDeclinedInsufficientFunds`). */
function tokenTwin(name: string): ReturnType<typeof lookupTestCard> {
  return lookupTestCard(`pm_card_${name}`) ?? lookupTestCard(`pm_card_visa_${name}`);
}

/** The charge's `source`: the legacy Card object (Cards.d.ts; brand spelled as there, e.g. `Visa`). */
function cardSource(pm: PaymentMethod, customer: string | null): Json {
  const card = pm.card ?? {};
  const brand = String(card.brand);
  const address = ((pm.billing_details as Json | undefined)?.address ?? {}) as Json;
  const names: Record<string, string> = {
    amex: 'American Express',
    diners: 'Diners Club',
    jcb: 'JCB',
    mastercard: 'MasterCard',
    unionpay: 'UnionPay',
  };
  return {
    id: pm.id,
    object: 'card',
    address_city: address.city ?? null,
    address_country: address.country ?? null,
    address_line1: address.line1 ?? null,
    address_line1_check: null,
    address_line2: address.line2 ?? null,
    address_state: address.state ?? null,
    address_zip: address.postal_code ?? null,
    address_zip_check: null,
    brand: names[brand] ?? brand.charAt(0).toUpperCase() + brand.slice(1),
    country: card.country ?? null,
    customer,
    cvc_check: 'pass',
    dynamic_last4: null,
    exp_month: card.exp_month,
    exp_year: card.exp_year,
    fingerprint: card.fingerprint ?? null,
    funding: card.funding,
    last4: card.last4,
    metadata: {},
    name: (pm.billing_details as Json | undefined)?.name ?? null,
    regulated_status: 'unregulated',
    tokenization_method: null,
  };
}

/**
 * A card that needs 3-D Secure cannot be charged through the Charges API, which has no authentication step: the
 * charge is declined with decline code authentication_required (docs.stripe.com/declines/codes; ⚠️ the message is
 * the text integrations log for such declines, not taken from a Stripe page).
 */
const AUTHENTICATION_DECLINE: Failure = {
  code: 'card_declined',
  declineCode: 'authentication_required',
  message: 'Your card was declined. This transaction requires authentication.',
};

export function createLegacyCharge(state: EmulatorState, params: FormObject): Charge {
  checkKnown(params, CREATE_PARAMS);
  const amount = reqInt(params, 'amount');
  const currency = reqString(params, 'currency').toLowerCase();
  checkCurrency(currency);
  checkChargeAmount(amount, currency, 'amount');
  const capture = optBool(params, 'capture') ?? true;
  const customerId = optString(params, 'customer');
  const customer = customerId === undefined ? undefined : requireCustomer(state, customerId);
  // ChargeCreateParams.statement_descriptor: "For a card charge, this value is ignored unless you don't specify a
  // statement_descriptor_suffix, in which case this value is used as the suffix."
  const descriptor = descriptorParam(params, 'statement_descriptor');
  const suffix = descriptorParam(params, 'statement_descriptor_suffix');
  // Everything is validated before anything is stored.
  const fields = {
    amount,
    currency,
    application_fee_amount: applicationFeeParam(params, amount) ?? null,
    on_behalf_of: onBehalfOfParam(params) ?? null,
    transfer_data: transferDataParam(params, amount) ?? null,
    shipping: shippingParam(params) ?? null,
    metadata: metadataParam(params),
    description: optString(params, 'description') ?? null,
    receipt_email: optString(params, 'receipt_email') ?? null,
    customer: customer?.id ?? null,
    capture_method: capture ? 'automatic' : 'manual',
    payment_method_options: null,
    statement_descriptor: null,
    statement_descriptor_suffix: suffix ?? descriptor ?? null,
  };
  const pm = chargedCard(state, optString(params, 'source'), customer);
  // A saved bank account is a PaymentIntents-only method here (bank-debits.ts); the Charges API takes cards.
  if (pm.type !== 'card')
    throw invalidRequest('The emulator charges cards only through the Charges API.', undefined, 'source');
  // buildCharge (charges.ts) makes PaymentIntent charges; it reads these fields of the intent, which is not stored.
  const intent = { id: null, object: 'payment_intent', ...fields } as unknown as PaymentIntent;
  const card = testCardOf(state, pm);
  const outcome = card.outcome;
  const failure: Failure | null =
    outcome.kind === 'decline'
      ? {
          code: outcome.code,
          declineCode: outcome.declineCode,
          message: outcome.message,
          ...(outcome.adviceCode === undefined ? {} : { adviceCode: outcome.adviceCode }),
          ...(outcome.param === undefined ? {} : { param: outcome.param }),
          ...(outcome.blocked === undefined ? {} : { blocked: outcome.blocked }),
        }
      : outcome.kind === 'authentication_required'
        ? AUTHENTICATION_DECLINE
        : null;
  const charge = buildCharge(state, intent, pm, card, failure);
  Object.assign(charge, {
    payment_intent: null,
    source: cardSource(pm, customer?.id ?? null),
    statement_descriptor: descriptor ?? null,
    statement_descriptor_suffix: suffix ?? null,
  });
  if (failure) {
    emit(state, 'charge.failed', charge);
    const error = lastPaymentError(state, charge, pm, failure);
    delete error.payment_method; // a PaymentIntent's field; the Charges API error names the charge only
    throw new StripeApiError(402, error as unknown as StripeApiError['body']);
  }
  if (capture) charge.balance_transaction = chargeBalanceTransaction(state, charge, amount).id;
  emit(state, 'charge.succeeded', charge);
  if (capture) openScriptedDispute(state, charge);
  return charge;
}

export function requireCharge(state: EmulatorState, id: string, param = 'id'): Charge {
  const charge = state.find<Charge>(id, 'charge');
  if (!charge) throw resourceMissing('charge', id, param);
  return charge;
}

/**
 * POST /v1/charges/:id/capture. Refusals: an already captured charge is 400 charge_already_captured with no param
 * ("Charge ch_… has already been captured.", recorded against Stripe by the stripe-stateful-mock parity tests); an
 * authorization past its capture_before is 400 charge_expired_for_capture (docs.stripe.com/error-codes); a charge of
 * a PaymentIntent is captured through the PaymentIntent; `amount` above the charge's is 400 on `amount`; a capture
 * below the currency's minimum is amount_too_small (charge-amounts.ts).
 */
export function captureLegacyCharge(state: EmulatorState, id: string, params: FormObject): Charge {
  checkKnown(params, [
    'amount',
    'receipt_email',
    'statement_descriptor',
    'statement_descriptor_suffix',
    'application_fee_amount',
    'expand',
  ]);
  const charge = requireCharge(state, id);
  if (charge.payment_intent !== null)
    throw invalidRequest(
      `Charge ${charge.id} belongs to PaymentIntent ${charge.payment_intent}: capture the PaymentIntent instead.`,
    );
  if (charge.status === 'failed') throw invalidRequest(`Charge ${charge.id} has failed; it cannot be captured.`);
  if (charge.captured)
    throw invalidRequest(`Charge ${charge.id} has already been captured.`, 'charge_already_captured');
  // A released authorization (refunded whole, refunds.ts) has nothing left to capture (the emulator's code choice).
  if (charge.refunded)
    throw invalidRequest(`Charge ${charge.id} has already been refunded.`, 'charge_already_refunded');
  const deadline = charge.payment_method_details.card?.capture_before ?? charge.created + CAPTURE_WINDOW_S;
  if (state.nowSeconds() >= deadline)
    throw invalidRequest(
      `Charge ${charge.id} has expired: uncaptured charges must be captured within 7 days.`,
      'charge_expired_for_capture',
    );
  const amount = optInt(params, 'amount') ?? charge.amount;
  if (amount <= 0) throw invalidRequest('Invalid positive integer', 'parameter_invalid_integer', 'amount');
  if (amount > charge.amount)
    throw invalidRequest(
      `Amount to capture (${amount}) is greater than the amount of the charge (${charge.amount}).`,
      'amount_too_large',
      'amount',
    );
  checkChargeAmount(amount, charge.currency, 'amount');
  const fee = applicationFeeParam(params, amount);
  const receiptEmail = optString(params, 'receipt_email');
  const descriptor = descriptorParam(params, 'statement_descriptor');
  const suffix = descriptorParam(params, 'statement_descriptor_suffix');
  if (fee !== undefined) charge.application_fee_amount = fee;
  if (receiptEmail !== undefined) charge.receipt_email = receiptEmail;
  if (descriptor !== undefined) charge.statement_descriptor = descriptor;
  if (suffix !== undefined) charge.statement_descriptor_suffix = suffix;
  if (suffix !== undefined || descriptor !== undefined)
    charge.calculated_statement_descriptor = `SETTLE* ${suffix ?? descriptor}`.slice(0, 22);
  charge.captured = true;
  charge.amount_captured = amount;
  charge.balance_transaction = chargeBalanceTransaction(state, charge, amount).id;
  emit(state, 'charge.captured', charge);
  const released = charge.amount - amount;
  if (released > 0) {
    // As for a PaymentIntent's partial capture (payment-intent-capture.ts): the rest is released as a Refund
    // with a partial_capture_reversal balance transaction.
    const refund = buildRefund(state, charge, released, null, {});
    const bt = refundBalanceTransaction(state, refund.id, released, charge.currency, 'partial_capture_reversal');
    refund.balance_transaction = bt.id;
    charge.amount_refunded += released;
    emit(state, 'refund.created', refund);
    emit(state, 'charge.refunded', charge);
  }
  openScriptedDispute(state, charge);
  return charge;
}
