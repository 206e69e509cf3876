// Charges: one per confirmation attempt that reaches the card network
// (docs.stripe.com/payments/paymentintents/lifecycle). Declines produce a
// `failed` charge; successful manual-capture charges stay uncaptured until capture, with
// payment_method_details.card.capture_before = created + 7 days on the emulator clock (Stripe's default window:
// "Uncaptured PaymentIntents are cancelled a set number of days (7 by default) after their creation"). When the
// clock passes that deadline the authorization lapses: the PaymentIntent becomes canceled (reason `automatic`,
// docs.stripe.com/payments/place-a-hold-on-a-payment-method; the exact cancellation_reason is not documented) and the
// charge is refunded (payment-intent-capture.ts).
import { chargeOutcome } from './charge-outcomes.js';
import type { EmulatorState } from './state.js';
import type { TestCard } from './test-cards.js';
import type { Charge, PaymentIntent, PaymentMethod } from './types.js';

export function incrementalRequested(pi: PaymentIntent): boolean {
  const card = (pi.payment_method_options as { card?: { request_incremental_authorization?: string } } | null)?.card;
  return card?.request_incremental_authorization === 'if_available';
}

export const CAPTURE_WINDOW_S = 7 * 24 * 60 * 60;

export interface Failure {
  code: string;
  declineCode: string;
  message: string;
  /** The decline's advice_code and the card field at fault (test-cards.ts Decline). */
  adviceCode?: string;
  param?: string;
  /** Blocked by Radar: the charge never reached the network (charge-outcomes.ts). */
  blocked?: boolean;
}

function cardDetails(
  state: EmulatorState,
  pi: PaymentIntent,
  pm: PaymentMethod,
  card: TestCard,
  succeeded: boolean,
  created: number,
): Record<string, unknown> {
  const pmCard = pm.card ?? {};
  const details: Record<string, unknown> = {
    amount_authorized: succeeded ? pi.amount : null,
    authorization_code: succeeded ? String(100000 + (created % 900000)) : null,
    brand: card.brand,
    checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' },
    country: card.country,
    exp_month: pmCard.exp_month,
    exp_year: pmCard.exp_year,
    extended_authorization: { status: 'disabled' },
    fingerprint: pmCard.fingerprint,
    funding: card.funding,
    // Available when the PaymentIntent asked for it (payment-intent-update.ts: the emulator's account is eligible).
    incremental_authorization: {
      status: succeeded && pi.capture_method === 'manual' && incrementalRequested(pi) ? 'available' : 'unavailable',
    },
    installments: null,
    last4: pmCard.last4 ?? card.last4,
    mandate: null,
    multicapture: { status: 'unavailable' },
    network: card.brand,
    network_token: { used: false },
    network_transaction_id: succeeded ? state.newId('ntx').slice(4, 19) : null,
    overcapture: { maximum_amount_capturable: pi.amount, status: 'unavailable' },
    regulated_status: 'unregulated',
    three_d_secure: null,
    wallet: null,
  };
  if (succeeded && pi.capture_method === 'manual') details.capture_before = created + CAPTURE_WINDOW_S;
  return details;
}

/** Charges.d.ts PaymentMethodDetails.UsBankAccount. */
function bankDetails(state: EmulatorState, pm: PaymentMethod): Record<string, unknown> {
  const bank = (pm.us_bank_account ?? {}) as Record<string, unknown>;
  return {
    account_holder_type: bank.account_holder_type ?? 'individual',
    account_type: bank.account_type ?? 'checking',
    bank_name: bank.bank_name ?? null,
    fingerprint: bank.fingerprint ?? null,
    last4: bank.last4 ?? null,
    mandate: state.newId('mandate'),
    payment_reference: null,
    routing_number: bank.routing_number ?? null,
  };
}

/** The account's descriptor ('SETTLE EMULATOR', the emulator's stand-in) with the PaymentIntent's dynamic suffix for
 * cards, or the PaymentIntent's full statement_descriptor for other methods
 * (docs.stripe.com/get-started/account/statement-descriptors). */
function statementDescriptor(pi: PaymentIntent, bank: boolean): string {
  const account = 'SETTLE EMULATOR';
  if (bank) return typeof pi.statement_descriptor === 'string' ? pi.statement_descriptor : account;
  const suffix = pi.statement_descriptor_suffix;
  return typeof suffix === 'string' ? `SETTLE* ${suffix}`.slice(0, 22) : account;
}

/**
 * A charge for one confirmation attempt. Card: `succeeded` (captured unless manual) or `failed`. ACH debit
 * (us_bank_account): `pending`, captured, not yet paid, no balance transaction (bank-debits.ts settles it).
 */
export function buildCharge(
  state: EmulatorState,
  pi: PaymentIntent,
  pm: PaymentMethod,
  card: TestCard,
  failure: Failure | null,
): Charge {
  const created = state.nowSeconds();
  const bank = pm.type === 'us_bank_account';
  const succeeded = failure === null;
  const captured = succeeded && pi.capture_method !== 'manual';
  const paymentMethodDetails: Charge['payment_method_details'] = bank
    ? { type: 'us_bank_account', us_bank_account: bankDetails(state, pm) }
    : { type: 'card', card: cardDetails(state, pi, pm, card, succeeded, created) };
  const charge: Charge = {
    id: state.newId(bank ? 'py' : 'ch'), // non-card payments have py_ ids on Stripe
    object: 'charge',
    amount: pi.amount,
    amount_captured: captured ? pi.amount : 0,
    amount_refunded: 0,
    application: null,
    application_fee: null,
    application_fee_amount: pi.application_fee_amount ?? null,
    balance_transaction: null,
    billing_details: pm.billing_details,
    calculated_statement_descriptor: statementDescriptor(pi, bank),
    captured,
    created,
    currency: pi.currency,
    customer: pi.customer,
    description: pi.description,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: failure?.code ?? null,
    failure_message: failure?.message ?? null,
    // A Radar block is reported by Stripe itself (observed on live charges Radar blocked).
    fraud_details: failure?.blocked === true ? { stripe_report: 'fraudulent' } : {},
    livemode: false,
    metadata: { ...pi.metadata },
    on_behalf_of: pi.on_behalf_of ?? null,
    outcome: chargeOutcome(failure, bank ? 'bank_debit' : 'card'),
    paid: succeeded && !bank,
    payment_intent: pi.id,
    payment_method: pm.id,
    payment_method_details: paymentMethodDetails,
    radar_options: {},
    receipt_email: pi.receipt_email ?? null,
    receipt_number: null,
    receipt_url: null,
    refunded: false,
    review: null,
    shipping: pi.shipping ?? null,
    source: null, // Charges.d.ts: only legacy Sources/Cards set it; PaymentMethods never do
    source_transfer: null,
    statement_descriptor: bank ? (pi.statement_descriptor ?? null) : null,
    statement_descriptor_suffix: bank ? null : (pi.statement_descriptor_suffix ?? null),
    status: bank && succeeded ? 'pending' : succeeded ? 'succeeded' : 'failed',
    transfer_data: pi.transfer_data ?? null,
    transfer_group: null,
  };
  return state.put(charge);
}
