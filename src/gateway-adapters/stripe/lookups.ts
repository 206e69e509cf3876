// Finding what Settle created at Stripe by OUR transaction id (P12: after a dropped response or a crash between
// the call and recording its result). PaymentIntents: the Search API on the metadata key. Refunds have no
// search, so the payment's refunds are listed and filtered by the same key.
//
// Caveat (Stripe's docs on search): "data is searchable in less than a minute" and search must not be used for
// read-after-write consistency, so an empty answer right after an attempt does not prove it never happened.
// Recovery should first replay the same request with the same idempotency key while Stripe still holds it
// (24 hours), and treat an empty search as conclusive only after that lag.
import type Stripe from 'stripe';
import type { FindRefundRequest, GatewayOutcome, GatewayPayment, GatewayRefund } from '../../app/gateway-port.js';
import { TRANSACTION_ID_METADATA_KEY } from '../../app/gateway-port.js';
import { refundOutcome } from './map-objects.js';
import { paymentOutcome } from './map-payment.js';
import type { StripeClient } from './stripe-client.js';

/** A Search Query Language string literal: single quotes, with quote and backslash escaped. */
export function searchLiteral(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function transactionQuery(transactionId: string): string {
  return `metadata[${searchLiteral(TRANSACTION_ID_METADATA_KEY)}]:${searchLiteral(transactionId)}`;
}

/** The payment for this transaction: the newest intent carrying our id (one per transaction, normally). */
export async function findPayment(
  client: StripeClient,
  transactionId: string,
): Promise<GatewayOutcome<GatewayPayment | null>> {
  const sent = await client.send(undefined, (o) =>
    client.sdk.paymentIntents.search(
      { query: transactionQuery(transactionId), limit: 10, expand: ['data.latest_charge.balance_transaction'] },
      o,
    ),
  );
  if (!sent.ok) return sent.outcome;
  // Search can match loosely at some providers; keep only exact metadata matches.
  const matches = sent.value.data.filter((pi) => pi.metadata?.[TRANSACTION_ID_METADATA_KEY] === transactionId);
  const newest = matches.reduce<Stripe.PaymentIntent | null>(
    (best, pi) => (best === null || pi.created > best.created ? pi : best),
    null,
  );
  if (newest === null) return { kind: 'succeeded', result: null };
  return paymentOutcome(newest, 'read');
}

/** The refund of this payment that carries our transaction id, walking the payment's refunds page by page. */
export async function findRefund(
  client: StripeClient,
  request: FindRefundRequest,
): Promise<GatewayOutcome<GatewayRefund | null>> {
  let found: Stripe.Refund | undefined;
  const walked = await walkRefunds(client, request.paymentIntentId, (page) => {
    found = page.find((r) => r.metadata?.[TRANSACTION_ID_METADATA_KEY] === request.transactionId);
    return found !== undefined;
  });
  if (walked !== null) return walked;
  return found ? refundOutcome(found) : { kind: 'succeeded', result: null };
}

/** Every refund of a payment, oldest first (Stripe lists newest first). */
export async function listRefunds(
  client: StripeClient,
  paymentIntentId: string,
): Promise<GatewayOutcome<GatewayRefund[]>> {
  const all: Stripe.Refund[] = [];
  const walked = await walkRefunds(client, paymentIntentId, (page) => {
    all.push(...page);
    return false;
  });
  if (walked !== null) return walked;
  const refunds: GatewayRefund[] = [];
  for (const refund of all.reverse()) {
    const outcome = refundOutcome(refund);
    if (!('result' in outcome) || outcome.result === undefined || outcome.result === null)
      return outcome as GatewayOutcome<never>;
    refunds.push(outcome.result);
  }
  return { kind: 'succeeded', result: refunds };
}

/** Pages through a payment's refunds until `stop` says so; a failed request's outcome, else null. */
async function walkRefunds(
  client: StripeClient,
  paymentIntentId: string,
  stop: (page: Stripe.Refund[]) => boolean,
): Promise<GatewayOutcome<never> | null> {
  let startingAfter: string | undefined;
  for (;;) {
    const params: Stripe.RefundListParams = {
      payment_intent: paymentIntentId,
      limit: 100,
      expand: ['data.balance_transaction'],
      ...(startingAfter === undefined ? {} : { starting_after: startingAfter }),
    };
    const sent = await client.send(undefined, (o) => client.sdk.refunds.list(params, o));
    if (!sent.ok) return sent.outcome;
    if (stop(sent.value.data)) return null;
    const last = sent.value.data.at(-1);
    if (!sent.value.has_more || last === undefined) return null;
    startingAfter = last.id;
  }
}
