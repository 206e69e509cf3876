// A Stripe event's object -> the port's GatewaySnapshot (W2): what the event shows, in Settle's units, for the
// snapshot rule (domain/snapshots.ts). No request is made. Objects are rendered as the event was created and are
// never expanded: a PaymentIntent's `latest_charge` and a charge's `balance_transaction` are ids (Events.d.ts), so a
// PaymentIntent snapshot carries no fees and no capture deadline.
import Stripe from 'stripe';
import type { GatewaySnapshot } from '../../app/gateway-port.js';
import { TRANSACTION_ID_METADATA_KEY } from '../../app/gateway-port.js';
import { fromStripeWireAmount } from '../../domain/money.js';
import type { Snapshot } from '../../domain/snapshots.js';
import { known, REFUND_STATUSES, toDate, toRefund, upper } from './map-objects.js';
import { PAYMENT_STATUSES, toPayment } from './map-payment.js';

const CHARGE_STATUSES = ['succeeded', 'pending', 'failed'] as const;

/** The API version the SDK sends (the adapter never overrides it), which its reads are rendered in. */
export const PINNED_API_VERSION: string = Stripe.API_VERSION;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const idOf = (v: unknown): string | null => str(v) ?? (isObject(v) ? str(v.id) : null);

/** A charge's amounts: what it released uncaptured (the rest of a partial capture, a released or expired hold) is
 * not a refund to the customer, as map-payment.ts's toPayment counts it. */
function chargeSnapshot(charge: Stripe.Charge): Snapshot | null {
  const status = known(CHARGE_STATUSES, charge.status);
  if (status === null) return null;
  const currency = upper(charge.currency);
  const released = charge.captured ? charge.amount - charge.amount_captured : charge.refunded ? charge.amount : 0;
  return {
    object: 'charge',
    status,
    captured_amount: fromStripeWireAmount(charge.amount_captured, currency),
    refunded_amount: fromStripeWireAmount(Math.max(0, charge.amount_refunded - released), currency),
    disputed: charge.disputed,
    error_code: charge.failure_code ?? null,
  };
}

/** The snapshot of a PaymentIntent, Charge or Refund event; null for anything else or a shape Settle does not know. */
export function parseStripeSnapshot(event: unknown): GatewaySnapshot | null {
  if (!isObject(event) || !isObject(event.data) || !isObject(event.data.object)) return null;
  if (typeof event.created !== 'number') return null;
  const object = event.data.object;
  const base = {
    object_id: str(object.id) ?? '',
    api_version: str(event.api_version),
    pinned_version: PINNED_API_VERSION,
    created: toDate(event.created),
    request_key: isObject(event.request) ? str(event.request.idempotency_key) : null,
  };
  if (base.object_id === '' || typeof object.currency !== 'string') return null;
  const metadata = isObject(object.metadata) ? object.metadata : {};
  const transactionId = str(metadata[TRANSACTION_ID_METADATA_KEY]);
  try {
    switch (object.object) {
      case 'payment_intent': {
        const pi = object as unknown as Stripe.PaymentIntent; // an event renders the API's PaymentIntent
        const status = known(PAYMENT_STATUSES, pi.status);
        if (status === null || isObject(pi.latest_charge)) return null;
        const payment = toPayment(pi, status);
        if (payment === 'unrecognised_charge') return null;
        return {
          ...base,
          payment_intent: pi.id,
          transaction_id: transactionId,
          snapshot: {
            object: 'payment_intent',
            status,
            authorized_amount: payment.authorized_amount,
            captured_amount: payment.captured_amount,
            error_code: payment.last_error?.code ?? null,
          },
          payment,
          refund: null,
        };
      }
      case 'charge': {
        const charge = object as unknown as Stripe.Charge; // an event renders the API's Charge
        const snapshot = chargeSnapshot(charge);
        if (snapshot === null) return null;
        return {
          ...base,
          payment_intent: idOf(charge.payment_intent),
          transaction_id: transactionId,
          snapshot,
          payment: null,
          refund: null,
          balance_transaction: idOf(charge.balance_transaction),
        };
      }
      case 'refund': {
        const refund = object as unknown as Stripe.Refund; // an event renders the API's Refund
        const status = known(REFUND_STATUSES, refund.status);
        if (status === null) return null;
        const mapped = toRefund(refund, status);
        return {
          ...base,
          payment_intent: idOf(refund.payment_intent),
          transaction_id: transactionId,
          snapshot: { object: 'refund', status, amount: mapped.amount },
          payment: null,
          refund: mapped,
        };
      }
      default:
        return null;
    }
  } catch {
    return null; // an amount or currency Settle cannot convert: read the object instead
  }
}
