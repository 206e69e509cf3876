// Refunds (docs.stripe.com/refunds): against a PaymentIntent or a Charge, partial or full, repeatedly until the charge
// is fully refunded. What can still be refunded is `charge.amount - charge.amount_refunded` (the released part
// of a partial capture already counts as refunded). Errors, all HTTP 400 invalid_request_error, with the code and
// param Stripe sends (observed on Stripe test mode in 2026 by aat-stripe, plans/refunds/refund-limits.yaml, and by
// the stripe-stateful-mock parity tests against live Stripe):
//   - more than what is left: param `amount` and NO code;
//   - nothing left to refund: code charge_already_refunded and NO param;
//   - an uncaptured (requires_capture) PaymentIntent or charge: no code and no param (cancel it instead,
//     docs.stripe.com/refunds);
//   - a PaymentIntent with no payment yet (requires_payment_method, processing, ...): the emulator's
//     payment_intent_unexpected_state on param payment_intent (⚠️ not observed on Stripe).
import { refundBalanceTransaction } from './balance.js';
import { invalidRequest, parameterMissing, resourceMissing } from './errors.js';
import { emit } from './events.js';
import { scheduleRefundFailure } from './refund-failures.js';
import { checkRefundConnectParams, REFUND_CONNECT_PARAMS, refundConnectParts } from './refund-connect.js';
import type { FormObject } from './form.js';
import { checkKnown, metadataParam, optEnum, optInt, optString } from './params.js';
import type { EmulatorState } from './state.js';
import type { Charge, PaymentIntent, Refund } from './types.js';

export function buildRefund(
  state: EmulatorState,
  charge: Charge,
  amount: number,
  reason: string | null,
  metadata: Record<string, string>,
): Refund {
  const refund: Refund = {
    id: state.newId('re'),
    object: 'refund',
    amount,
    balance_transaction: null,
    charge: charge.id,
    created: state.nowSeconds(),
    currency: charge.currency,
    // Refunds.d.ts (v23): the charge's customer and payment method; customer_account is for Accounts v2 only.
    customer: typeof charge.customer === 'string' ? charge.customer : null,
    customer_account: null,
    destination_details: {
      card: {
        reference: null,
        reference_status: 'pending',
        reference_type: 'acquirer_reference_number',
        type: 'refund',
      },
      type: 'card',
    },
    metadata,
    payment_intent: charge.payment_intent,
    payment_method: charge.payment_method,
    reason,
    receipt_number: null,
    source_transfer_reversal: null,
    status: 'succeeded',
    transfer_reversal: null,
  };
  return state.put(refund);
}

function refundableCharge(state: EmulatorState, params: FormObject): Charge {
  const piId = optString(params, 'payment_intent');
  const chargeId = optString(params, 'charge');
  if (piId === undefined && chargeId === undefined) throw parameterMissing('payment_intent');
  let charge: Charge | undefined;
  if (piId !== undefined) {
    const pi = state.find<PaymentIntent>(piId, 'payment_intent');
    if (!pi) throw resourceMissing('payment_intent', piId, 'payment_intent');
    if (pi.status === 'requires_capture') {
      throw invalidRequest(
        `PaymentIntent ${pi.id} is uncaptured (requires_capture); cancel it to release the authorization instead of refunding.`,
      );
    }
    if (pi.status !== 'succeeded') {
      throw invalidRequest(
        `PaymentIntent ${pi.id} has no successful charge to refund (status ${pi.status}).`,
        'payment_intent_unexpected_state',
        'payment_intent',
      );
    }
    charge = state.find<Charge>(pi.latest_charge ?? '', 'charge');
    if (chargeId !== undefined && charge?.id !== chargeId) {
      throw invalidRequest(`Charge ${chargeId} does not belong to PaymentIntent ${pi.id}.`, undefined, 'charge');
    }
  } else if (chargeId !== undefined) {
    charge = state.find<Charge>(chargeId, 'charge');
    if (!charge) throw resourceMissing('charge', chargeId, 'charge');
    // A legacy charge (no PaymentIntent, charges-legacy.ts) that is only authorized is released by refunding it.
    if (!charge.captured && !(charge.payment_intent === null && charge.status === 'succeeded')) {
      if (charge.status === 'failed')
        throw invalidRequest(`Charge ${charge.id} is a failed charge.`, 'charge_not_refundable', 'charge');
      throw invalidRequest(`Charge ${charge.id} is uncaptured; cancel its PaymentIntent instead.`);
    }
  }
  if (!charge) throw invalidRequest('There is no charge to refund.', 'charge_not_refundable', 'payment_intent');
  if (charge.disputed === true) {
    // Stripe refuses to refund a disputed payment: the dispute process decides where the money goes.
    throw invalidRequest(
      `Charge ${charge.id} has been charged back; it cannot be refunded.`,
      'charge_disputed',
      'charge',
    );
  }
  return charge;
}

/**
 * POST /v1/refunds, and (dashboard: true) a refund made in the Dashboard: the same rules and objects, but no
 * metadata and no idempotency (controls.dashboardRefund; its events have request.id null). Events:
 * refund.created, charge.refunded.
 */
export function createRefund(state: EmulatorState, params: FormObject, dashboard = false): Refund {
  checkKnown(
    params,
    dashboard
      ? ['payment_intent', 'charge', 'amount', 'reason']
      : ['payment_intent', 'charge', 'amount', 'reason', 'metadata', 'expand', ...REFUND_CONNECT_PARAMS],
  );
  const charge = refundableCharge(state, params);
  const remaining = charge.amount - charge.amount_refunded;
  if (remaining <= 0) throw invalidRequest(`Charge ${charge.id} has already been refunded.`, 'charge_already_refunded');
  const amount = optInt(params, 'amount') ?? remaining;
  if (amount <= 0)
    throw invalidRequest('Refund amount must be a positive integer.', 'parameter_invalid_integer', 'amount');
  if (amount > remaining) {
    throw invalidRequest(
      `Refund amount (${amount}) is greater than the unrefunded amount on the charge (${remaining}).`,
      undefined,
      'amount',
    );
  }
  // An uncaptured legacy charge is released whole, with no balance transaction (nothing was captured); Stripe's
  // refusal of a partial one is recorded by the stripe-stateful-mock parity tests (test/charges.ts "can't partially
  // void": 400 on param amount, no code).
  if (!charge.captured && amount !== remaining)
    throw invalidRequest(
      'You cannot partially refund an uncaptured charge. Instead, capture the charge for an amount less than the original amount',
      undefined,
      'amount',
    );
  checkRefundConnectParams(params, charge);
  const reason = optEnum(params, 'reason', ['duplicate', 'fraudulent', 'requested_by_customer'] as const) ?? null;
  const refund = buildRefund(state, charge, amount, reason, metadataParam(params));
  if (charge.captured)
    refund.balance_transaction = refundBalanceTransaction(state, refund.id, amount, charge.currency, 'refund').id;
  charge.amount_refunded += amount;
  charge.refunded = charge.amount_refunded === charge.amount;
  emit(state, 'refund.created', refund);
  emit(state, 'charge.refunded', charge);
  if (!dashboard) refundConnectParts(state, params, charge, amount); // refund_application_fee (refund-connect.ts)
  scheduleRefundFailure(state, charge, refund);
  return refund;
}

export function listRefunds(state: EmulatorState, params: FormObject): Refund[] {
  checkKnown(params, ['payment_intent', 'charge', 'limit', 'starting_after', 'ending_before', 'expand', 'created']);
  const pi = optString(params, 'payment_intent');
  const charge = optString(params, 'charge');
  return state
    .all<Refund>('refund')
    .filter((r) => (pi === undefined || r.payment_intent === pi) && (charge === undefined || r.charge === charge));
}
