// Stripe PaymentIntent (+ its latest charge and balance transaction) -> the port's GatewayPayment and outcome.
// Exhaustive over PaymentIntent.Status and Charge.Status; unknown statuses become `unknown` outcomes.
import type Stripe from 'stripe';
import type { GatewayError, GatewayOutcome, GatewayPayment, PaymentStatus } from '../../app/gateway-port.js';
import { TRANSACTION_ID_METADATA_KEY } from '../../app/gateway-port.js';
import { fromStripeWireAmount } from '../../domain/money.js';
import { assertNever } from '../../domain/transaction-state.js';
import { localError } from './classify-error.js';
import { idOf, known, toBalance, toDate, unrecognised, upper } from './map-objects.js';

export const PAYMENT_STATUSES: readonly PaymentStatus[] = [
  'requires_payment_method',
  'requires_confirmation',
  'requires_action',
  'processing',
  'requires_capture',
  'succeeded',
  'canceled',
];
const CHARGE_STATUSES = ['succeeded', 'pending', 'failed'] as const;
type ChargeStatus = (typeof CHARGE_STATUSES)[number];

/** What the caller asked for: it decides whether a state is the wanted one. */
export type PaymentOperation = 'authorize' | 'charge' | 'capture' | 'cancel' | 'read';

/** Did the card authorization behind this charge succeed? (An uncaptured authorization has status succeeded.) */
function chargeAuthorized(status: ChargeStatus): boolean {
  switch (status) {
    case 'succeeded':
      return true;
    case 'pending':
    case 'failed':
      return false;
    default:
      return assertNever(status, 'charge status');
  }
}

function lastError(pi: Stripe.PaymentIntent, charge: Stripe.Charge | null): GatewayError | null {
  const e = pi.last_payment_error;
  if (e) {
    return {
      code: e.code ?? null,
      decline_code: e.decline_code ?? null,
      message: e.message ?? 'The payment failed.',
      type: e.type,
      advice_code: e.advice_code ?? null,
      network_decline_code: e.network_decline_code ?? null,
      param: e.param ?? null,
      http_status: null,
      request_id: null,
    };
  }
  if (charge?.failure_code)
    return localError(charge.failure_code, charge.failure_message ?? 'The charge failed.', 'card_error');
  return null;
}

/**
 * Builds the snapshot. Partial capture: Stripe shows the released remainder in the charge's `amount_refunded` (and a
 * `partial_capture_reversal` balance transaction: docs/STRIPE.md, "Capture, release and expiry"), the same field real
 * refunds use. Once the authorization is closed (intent succeeded or canceled), `amount - amount_captured` of an
 * authorized charge is that released part; only what `amount_refunded` holds beyond it is money refunded.
 */
export function toPayment(pi: Stripe.PaymentIntent, status: PaymentStatus): GatewayPayment | 'unrecognised_charge' {
  const currency = upper(pi.currency);
  const minor = (wire: number): number => fromStripeWireAmount(wire, currency);
  const charge = pi.latest_charge && typeof pi.latest_charge === 'object' ? pi.latest_charge : null;
  const chargeStatus = charge ? known(CHARGE_STATUSES, charge.status) : null;
  if (charge && chargeStatus === null) return 'unrecognised_charge';
  const closed = status === 'succeeded' || status === 'canceled';
  const released =
    charge && chargeStatus && chargeAuthorized(chargeStatus) && closed ? charge.amount - charge.amount_captured : 0;
  const refundedWire = charge ? Math.max(0, charge.amount_refunded - released) : 0;
  const captureBefore = charge?.payment_method_details?.card?.capture_before;
  return {
    refs: {
      payment_intent: pi.id,
      charge: idOf(pi.latest_charge),
      balance_transaction: charge ? idOf(charge.balance_transaction) : null,
      refund: null,
    },
    status,
    capture_method: pi.capture_method === 'manual' ? 'manual' : 'automatic',
    currency,
    amount: minor(pi.amount),
    authorized_amount: minor(pi.amount_capturable),
    captured_amount: minor(charge ? charge.amount_captured : pi.amount_received),
    refunded_amount: minor(refundedWire),
    released_amount: minor(released),
    authorization_expires_at: status === 'requires_capture' && captureBefore ? toDate(captureBefore) : null,
    transaction_id: pi.metadata?.[TRANSACTION_ID_METADATA_KEY] ?? null,
    payment_method: idOf(pi.payment_method),
    customer: idOf(pi.customer),
    next_action: pi.next_action?.type ?? null,
    cancellation_reason: pi.cancellation_reason ?? null,
    last_error: lastError(pi, charge),
    balance: charge ? toBalance(charge.balance_transaction) : null,
    // L11: how the network and Stripe's risk evaluation judged the latest charge (Charges.d.ts `Charge.Outcome`).
    network_status: charge?.outcome?.network_status ?? null,
    risk_level: charge?.outcome?.risk_level ?? null,
    // Connect (M6): a direct charge's application fee (Charge.application_fee, fee_...); its amounts are the
    // platform's to read (stripe-gateway.ts forAccount).
    application_fee_id: charge ? idOf(charge.application_fee) : null,
    // Issue 20: a checkout's PaymentIntent names its order here (PaymentIntents.d.ts `metadata`).
    metadata: { ...(pi.metadata ?? {}) },
  };
}

const wrongState = (payment: GatewayPayment, message: string): GatewayOutcome<GatewayPayment> => ({
  kind: 'invalid_request',
  result: payment,
  error: localError('payment_intent_unexpected_state', message, 'invalid_request_error'),
});

const declined = (payment: GatewayPayment, fallbackCode: string): GatewayOutcome<GatewayPayment> => ({
  kind: 'declined',
  refs: payment.refs,
  result: payment,
  error: payment.last_error ?? localError(fallbackCode, `The payment is ${payment.status}.`, 'card_error'),
});

/**
 * PaymentIntent.Status -> outcome for the operation that produced it. `read` (retrieve, find) reports the
 * intent's state: authorized, captured and canceled intents are all `succeeded` reads; `status` tells which.
 */
export function paymentOutcome(pi: Stripe.PaymentIntent, op: PaymentOperation): GatewayOutcome<GatewayPayment> {
  const status = known(PAYMENT_STATUSES, pi.status);
  if (status === null) return unrecognised('payment intent', pi.status);
  const payment = toPayment(pi, status);
  if (payment === 'unrecognised_charge') {
    return unrecognised('charge', typeof pi.latest_charge === 'object' ? (pi.latest_charge?.status ?? null) : null);
  }
  switch (status) {
    case 'requires_capture': // authorized, capturable
      if (op === 'cancel') return wrongState(payment, 'The authorization is still open after the cancel.');
      return { kind: 'succeeded', result: payment };
    case 'succeeded': // captured (in full or in part)
      if (op === 'cancel') return wrongState(payment, 'The payment was already captured; it cannot be released.');
      return { kind: 'succeeded', result: payment };
    case 'canceled': // released, expired or canceled by Stripe
      if (op === 'cancel' || op === 'read') return { kind: 'succeeded', result: payment };
      if (op === 'capture')
        return wrongState(payment, 'The authorization was canceled or expired; nothing can be captured.');
      return declined(payment, 'payment_intent_canceled');
    case 'processing':
      return { kind: 'pending', result: payment };
    case 'requires_action': // the customer must authenticate (3-D Secure) on session
      return { kind: 'requires_action', result: payment };
    case 'requires_confirmation': // created but never confirmed: Settle creates with confirm=true, so only on read
      return { kind: 'requires_action', result: payment };
    case 'requires_payment_method': // the last attempt failed (or none was made)
      return declined(payment, 'payment_method_required');
    default:
      return assertNever(status, 'payment intent status');
  }
}
