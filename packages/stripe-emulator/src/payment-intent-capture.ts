// Capture, cancel and the lapse of uncaptured authorizations (docs.stripe.com/payments/paymentintents/lifecycle).
//   capture          charge.captured, then for a partial capture refund.created + charge.refunded for the
//                    released rest (a Refund with a partial_capture_reversal balance transaction), then
//                    payment_intent.succeeded
//   cancel           from requires_capture the authorization is released: a Refund of the whole amount with
//                    no balance transaction (nothing was captured), refund.created + charge.refunded; then
//                    payment_intent.canceled. A processing ACH debit is stopped: its charge fails (charge.failed).
//   lapse            at the charge's capture_before (created + 7 days): charge.expired, charge.refunded,
//                    refund.created (reason expired_uncaptured_charge), payment_intent.canceled (reason automatic)
// Releases are told apart from customer refunds by their charge: they are what was never captured
// (refund.amount counted in charge.amount - charge.amount_captured), with reason expired_uncaptured_charge or
// null, and a balance transaction that is either null or has reporting_category partial_capture_reversal.
import { chargeBalanceTransaction, refundBalanceTransaction } from './balance.js';
import { openScriptedDispute } from './disputes.js';
import { invalidRequest, resourceMissing, unexpectedState } from './errors.js';
import { emit } from './events.js';
import type { FormObject } from './form.js';
import { checkKnown, metadataParam, optBool, optEnum, optInt } from './params.js';
import { buildRefund } from './refunds.js';
import { render } from './render.js';
import type { EmulatorState } from './state.js';
import type { TimedAction } from './timeline.js';
import type { Charge, PaymentIntent } from './types.js';

export function capturePaymentIntent(state: EmulatorState, pi: PaymentIntent, params: FormObject): void {
  checkKnown(params, ['amount_to_capture', 'expand', 'metadata', 'final_capture']);
  if (pi.status !== 'requires_capture')
    throw unexpectedState('captured', pi.status, ['requires_capture'], render(state, pi));
  const amount = optInt(params, 'amount_to_capture') ?? pi.amount_capturable;
  if (amount <= 0)
    throw invalidRequest(
      'amount_to_capture must be a positive integer.',
      'parameter_invalid_integer',
      'amount_to_capture',
    );
  if (amount > pi.amount_capturable) {
    throw invalidRequest(
      `amount_to_capture (${amount}) is greater than the amount capturable (${pi.amount_capturable}).`,
      'amount_too_large',
      'amount_to_capture',
    );
  }
  if (optBool(params, 'final_capture') === false) {
    throw invalidRequest('Multicapture is not available on the emulator.', 'parameter_invalid_string', 'final_capture');
  }
  const charge = state.find<Charge>(pi.latest_charge ?? '', 'charge');
  if (!charge) throw resourceMissing('charge', pi.latest_charge ?? '', 'latest_charge');
  pi.metadata = metadataParam(params, pi.metadata);
  charge.captured = true;
  charge.amount_captured = amount;
  charge.balance_transaction = chargeBalanceTransaction(state, charge, amount).id;
  emit(state, 'charge.captured', charge);
  const released = charge.amount - amount;
  if (released > 0) {
    // The uncaptured part is refunded: the charge's amount_refunded grows and a refund-type balance transaction
    // with reporting_category partial_capture_reversal reverses it
    // (docs.stripe.com/payments/paymentintents/lifecycle, docs.stripe.com/reports/reporting-categories).
    const refund = buildRefund(state, charge, released, null, {});
    refund.balance_transaction = refundBalanceTransaction(
      state,
      refund.id,
      released,
      charge.currency,
      'partial_capture_reversal',
    ).id;
    charge.amount_refunded += released;
    emit(state, 'refund.created', refund);
    emit(state, 'charge.refunded', charge);
  }
  pi.status = 'succeeded';
  pi.amount_received = amount;
  pi.amount_capturable = 0;
  emit(state, 'payment_intent.succeeded', pi);
  openScriptedDispute(state, charge);
}

/** Releases an uncaptured authorization: a Refund for what was never captured, no balance transaction. */
function releaseAuthorization(state: EmulatorState, charge: Charge, reason: string | null, expired: boolean): void {
  const released = charge.amount - charge.amount_refunded;
  charge.amount_refunded = charge.amount;
  charge.refunded = true;
  const refund = released > 0 ? buildRefund(state, charge, released, reason, {}) : undefined;
  if (expired) emit(state, 'charge.expired', charge);
  if (expired) emit(state, 'charge.refunded', charge);
  if (refund) emit(state, 'refund.created', refund);
  if (!expired) emit(state, 'charge.refunded', charge);
}

const CANCELABLE = [
  'requires_payment_method',
  'requires_capture',
  'requires_confirmation',
  'requires_action',
  'processing',
] as const;

export function cancelPaymentIntent(state: EmulatorState, pi: PaymentIntent, params: FormObject): void {
  checkKnown(params, ['cancellation_reason', 'expand']);
  const reason = optEnum(params, 'cancellation_reason', [
    'duplicate',
    'fraudulent',
    'requested_by_customer',
    'abandoned',
  ] as const);
  if (!(CANCELABLE as readonly string[]).includes(pi.status))
    throw unexpectedState('canceled', pi.status, CANCELABLE, render(state, pi));
  const charge = state.find<Charge>(pi.latest_charge ?? '', 'charge');
  if (pi.status === 'requires_capture' && charge) releaseAuthorization(state, charge, null, false);
  if (pi.status === 'processing' && charge?.status === 'pending') {
    delete state.meta(charge.id).settleAt;
    charge.status = 'failed';
    charge.captured = false;
    charge.amount_captured = 0;
    charge.failure_message = 'The payment was canceled before it settled.';
    emit(state, 'charge.failed', charge);
  }
  pi.status = 'canceled';
  pi.cancellation_reason = reason ?? null;
  pi.canceled_at = state.nowSeconds();
  pi.amount_capturable = 0;
  pi.next_action = null;
  emit(state, 'payment_intent.canceled', pi);
}

function deadlineOf(state: EmulatorState, pi: PaymentIntent): { charge: Charge; deadline: number } | undefined {
  if (pi.status !== 'requires_capture' || pi.latest_charge === null) return undefined;
  const charge = state.find<Charge>(pi.latest_charge, 'charge');
  const deadline = charge?.payment_method_details.card?.capture_before;
  return charge && deadline !== undefined ? { charge, deadline } : undefined;
}

/** Timeline source: the next authorization to lapse (docs.stripe.com/payments/place-a-hold-on-a-payment-method;
 * cancellation_reason automatic is the emulator's choice: Stripe does not document it and may say expired). */
export function nextExpiry(state: EmulatorState): TimedAction | undefined {
  let first: { pi: PaymentIntent; charge: Charge; deadline: number } | undefined;
  for (const pi of state.all<PaymentIntent>('payment_intent')) {
    const d = deadlineOf(state, pi);
    if (d && (first === undefined || d.deadline < first.deadline)) first = { pi, ...d };
  }
  if (!first) return undefined;
  const { pi, charge, deadline } = first;
  return {
    atMs: deadline * 1000,
    run: () => {
      releaseAuthorization(state, charge, 'expired_uncaptured_charge', true);
      pi.status = 'canceled';
      pi.cancellation_reason = 'automatic';
      pi.canceled_at = deadline;
      pi.amount_capturable = 0;
      emit(state, 'payment_intent.canceled', pi);
    },
  };
}
