// One gateway attempt's call (P12): the request recorded in tx1, sent through the port with the attempt's own
// idempotency key. The same function sends the first call and recovery's replay, so a replay is byte for byte the
// request the gateway may already have seen (Stripe answers a replayed key with its stored response, and refuses
// the key with a different body: docs/STRIPE.md, "Idempotency and retries").
import type {
  CancelReason,
  Gateway,
  GatewayError,
  GatewayOutcome,
  GatewayPayment,
  GatewayRefund,
  RefundReason,
} from '../gateway-port.js';
import type { GatewayAttemptRow } from '../../store/schema.js';
import { type ConnectRequestFields, gatewayForRequest } from '../connect/direct-charges.js';

export type GatewayAction = GatewayAttemptRow['action'];

/**
 * What tx1 recorded to send (JSON in gateway_attempts.request). Amounts in minor units. A direct charge's calls (M6)
 * also record the connected account and the fee fields (ConnectRequestFields, app/connect/direct-charges.ts).
 */
export interface AttemptRequest extends ConnectRequestFields {
  amount: number | null;
  currency: string;
  payment_method: string | null;
  customer: string | null;
  off_session: boolean;
  payment_intent: string | null;
  reason: string | null;
  description: string | null;
}

export type ActionResult = GatewayPayment | GatewayRefund;
export type ActionOutcome = GatewayOutcome<ActionResult>;

export interface AttemptToSend {
  action: GatewayAction;
  idempotency_key: string;
  transaction_id: string;
  request: AttemptRequest;
}

function required<T>(value: T | null, what: string): T {
  if (value === null) throw new Error(`gateway attempt without ${what}`);
  return value;
}

/** Sends the attempt's request (the first time, or again as recovery's replay with the same key). */
export function sendAttempt(platform: Gateway, attempt: AttemptToSend): Promise<ActionOutcome> {
  const { request: r } = attempt;
  // Connect (M6): a direct charge's calls act on its connected account (the Stripe-Account header).
  const gateway = gatewayForRequest(platform, r);
  const write = { idempotencyKey: attempt.idempotency_key, transactionId: attempt.transaction_id };
  switch (attempt.action) {
    case 'authorize':
    case 'charge': {
      const payment = {
        ...write,
        amount: required(r.amount, 'amount'),
        currency: r.currency,
        paymentMethod: required(r.payment_method, 'payment method'),
        ...(r.customer === null ? {} : { customer: r.customer }),
        ...(r.off_session ? { offSession: true } : {}),
        ...(r.description === null ? {} : { description: r.description }),
        ...(r.application_fee_amount === undefined || r.application_fee_amount === null
          ? {}
          : { applicationFeeAmount: r.application_fee_amount }),
      };
      return attempt.action === 'authorize' ? gateway.authorize(payment) : gateway.charge(payment);
    }
    case 'capture':
      return gateway.capture({
        ...write,
        paymentIntentId: required(r.payment_intent, 'payment intent'),
        currency: r.currency,
        ...(r.amount === null ? {} : { amount: r.amount }),
      });
    case 'release':
      return gateway.cancel({
        ...write,
        paymentIntentId: required(r.payment_intent, 'payment intent'),
        ...(r.reason === null ? {} : { reason: r.reason as CancelReason }),
      });
    case 'refund':
      return gateway.refund({
        ...write,
        paymentIntentId: required(r.payment_intent, 'payment intent'),
        amount: required(r.amount, 'amount'),
        currency: r.currency,
        ...(r.reason === null ? {} : { reason: r.reason as RefundReason }),
        ...(r.refund_application_fee === true ? { refundApplicationFee: true } : {}),
      });
  }
}

/**
 * Recovery's lookup (P12, when a replay cannot answer): what the gateway holds for this attempt, as the outcome the
 * call would have had, or `nothing` when the gateway proves that the call did not happen. `unknown` when it cannot
 * tell yet (Stripe's search lags writes by up to a minute: an empty search only proves something after that).
 */
export type LookupResult =
  { kind: 'found'; outcome: ActionOutcome } | { kind: 'nothing' } | { kind: 'unknown'; message: string };

export const SEARCH_LAG_MS = 60_000;

export async function lookUpAttempt(
  platform: Gateway,
  attempt: AttemptToSend & { created_at: Date },
  now: Date,
): Promise<LookupResult> {
  const { request: r } = attempt;
  const gateway = gatewayForRequest(platform, r); // a direct charge's objects live on its connected account (M6)
  switch (attempt.action) {
    case 'authorize':
    case 'charge': {
      const found = await gateway.findPaymentByTransactionId(attempt.transaction_id);
      if (found.kind === 'succeeded' && found.result === null) {
        if (now.getTime() - attempt.created_at.getTime() < SEARCH_LAG_MS) {
          return {
            kind: 'unknown',
            message: 'the gateway has no payment for this transaction yet, but its search may still lag the call',
          };
        }
        return { kind: 'nothing' };
      }
      const payment = resultOf(found);
      if (!payment) return { kind: 'unknown', message: `the lookup by transaction id failed (${found.kind})` };
      return { kind: 'found', outcome: paymentAsOutcome(attempt.action, payment) };
    }
    case 'capture':
    case 'release': {
      const read = await gateway.retrieve(required(r.payment_intent, 'payment intent'));
      const payment = resultOf(read);
      if (!payment) return { kind: 'unknown', message: `reading the payment failed (${read.kind})` };
      // Still authorized and capturable: neither the capture nor the release happened.
      if (payment.status === 'requires_capture') return { kind: 'nothing' };
      return { kind: 'found', outcome: paymentAsOutcome(attempt.action, payment) };
    }
    case 'refund': {
      const found = await gateway.findRefundByTransactionId({
        paymentIntentId: required(r.payment_intent, 'payment intent'),
        transactionId: attempt.transaction_id,
      });
      // The payment's own refund list is read directly (not a search index), so an empty answer is conclusive.
      if (found.kind === 'succeeded' && found.result === null) return { kind: 'nothing' };
      const refund = resultOf(found);
      if (!refund) return { kind: 'unknown', message: `the refund lookup failed (${found.kind})` };
      return { kind: 'found', outcome: refundAsOutcome(refund) };
    }
  }
}

/** The gateway object an outcome carries, whatever its class (a decline carries the failed payment too). */
function resultOf<T>(outcome: GatewayOutcome<T | null>): T | null {
  switch (outcome.kind) {
    case 'succeeded':
    case 'pending':
    case 'requires_action':
      return outcome.result;
    case 'declined':
      return outcome.result;
    case 'invalid_request':
      return outcome.result ?? null;
    case 'retryable':
    case 'unknown':
    case 'configuration':
      return null;
  }
}

/** A payment read from the gateway, classified as the outcome of `action` (what a direct answer would have been). */
export function paymentAsOutcome(action: GatewayAction, payment: GatewayPayment): ActionOutcome {
  switch (payment.status) {
    case 'requires_capture':
    case 'succeeded':
      return { kind: 'succeeded', result: payment };
    case 'canceled':
      if (action === 'release') return { kind: 'succeeded', result: payment };
      return declinedOutcome(
        payment,
        'payment_intent_canceled',
        `The payment was canceled at the gateway (${payment.cancellation_reason ?? 'no reason given'}).`,
      );
    case 'processing':
      return { kind: 'pending', result: payment };
    case 'requires_action':
    case 'requires_confirmation':
      return { kind: 'requires_action', result: payment };
    case 'requires_payment_method':
      return declinedOutcome(payment, 'payment_method_required', 'The payment attempt failed.');
  }
}

/** The payment's own error, else one saying what Settle read (a card error with `code`). */
export function paymentError(payment: GatewayPayment, code: string, message: string): GatewayError {
  return (
    payment.last_error ?? {
      code,
      decline_code: null,
      message,
      type: 'card_error',
      advice_code: null,
      network_decline_code: null,
      param: null,
      http_status: null,
      request_id: null,
    }
  );
}

function declinedOutcome(payment: GatewayPayment, code: string, message: string): ActionOutcome {
  return { kind: 'declined', refs: payment.refs, result: payment, error: paymentError(payment, code, message) };
}

export function refundAsOutcome(refund: GatewayRefund): ActionOutcome {
  switch (refund.status) {
    case 'succeeded':
      return { kind: 'succeeded', result: refund };
    case 'pending':
    case 'requires_action':
      return { kind: 'pending', result: refund };
    case 'failed':
    case 'canceled':
      return {
        kind: 'declined',
        refs: refund.refs,
        result: refund,
        error: {
          code: refund.failure_reason ?? `refund_${refund.status}`,
          decline_code: null,
          message: `The refund ${refund.status === 'failed' ? 'failed' : 'was canceled'} at the gateway${refund.failure_reason ? ` (${refund.failure_reason})` : ''}.`,
          type: 'refund_error',
          advice_code: null,
          network_decline_code: null,
          param: null,
          http_status: null,
          request_id: null,
        },
      };
  }
}
