// Stripe's list endpoints for the backfill (W6): customers, a customer's payment methods, PaymentIntents, refunds,
// disputes and payouts, a page at a time, newest first, within a creation range. Each object goes through the same
// map-*.ts function as a single read, so a listed object and a retrieved one are the same snapshot.
//
// Stripe's lists: "sorted, with the most recently created appearing first", paged with `starting_after` the last id of
// the previous page, at most 100 per page (https://docs.stripe.com/api/pagination); `created[gte]` / `created[lt]`
// are unix seconds (RangeQueryParam in the SDK's shared.d.ts). A customer's payment methods are listed with
// GET /v1/customers/{customer}/payment_methods, Stripe's list for the methods a customer can pay with
// (https://docs.stripe.com/api/payment_methods/customer_list); it takes no creation range.
import type Stripe from 'stripe';
import type {
  CreatedRange,
  GatewayCustomerDetails,
  GatewayDispute,
  GatewayListPage,
  GatewayOutcome,
  GatewayPayment,
  GatewayPaymentMethodDetails,
  GatewayPayout,
  GatewayRefundOfPayment,
  ListPageRequest,
} from '../../app/gateway-port.js';
import { refundOutcome } from './map-objects.js';
import { paymentOutcome } from './map-payment.js';
import { disputeOutcome, paymentMethodDetails, payoutOutcome } from './map-sync.js';
import type { StripeClient } from './stripe-client.js';
import { CUSTOMER_REFERENCE_METADATA_KEY } from './stripe-gateway.js';

/** Expanded on listed PaymentIntents: the fees, net and availability of the latest charge, as on a single read. */
const PAYMENTS_EXPAND = ['data.latest_charge.balance_transaction'];
/** Expanded on listed refunds: the refund's fees, and its payment with the same fields as a payment read (4 levels). */
const REFUNDS_EXPAND = ['data.balance_transaction', 'data.payment_intent.latest_charge.balance_transaction'];

const seconds = (date: Date): number => Math.floor(date.getTime() / 1000);

/** Stripe's `created` range parameter, or nothing when the range is open at both ends. */
export function createdParam(range: CreatedRange | undefined): { created?: Stripe.RangeQueryParam } {
  if (range === undefined || (range.gte === undefined && range.lt === undefined)) return {};
  return {
    created: {
      ...(range.gte === undefined ? {} : { gte: seconds(range.gte) }),
      ...(range.lt === undefined ? {} : { lt: seconds(range.lt) }),
    },
  };
}

function pageParams(request: ListPageRequest): { limit: number; starting_after?: string } {
  return {
    limit: request.limit,
    ...(request.startingAfter === undefined ? {} : { starting_after: request.startingAfter }),
  };
}

/** Maps a list's objects; the first object that does not map ends the page with its outcome (never skipped). */
function mapPage<S extends { id: string }, T>(
  list: Stripe.ApiList<S>,
  map: (item: S) => GatewayOutcome<T>,
): GatewayOutcome<GatewayListPage<T>> {
  const data: T[] = [];
  for (const item of list.data) {
    const outcome = map(item);
    if (!('result' in outcome) || outcome.result === undefined || outcome.result === null)
      return outcome as GatewayOutcome<never>;
    data.push(outcome.result);
  }
  return { kind: 'succeeded', result: { data, has_more: list.has_more, last_id: list.data.at(-1)?.id ?? null } };
}

export async function listCustomers(
  client: StripeClient,
  request: ListPageRequest,
): Promise<GatewayOutcome<GatewayListPage<GatewayCustomerDetails>>> {
  const params: Stripe.CustomerListParams = { ...pageParams(request), ...createdParam(request.created) };
  const sent = await client.send(undefined, (o) => client.sdk.customers.list(params, o));
  if (!sent.ok) return sent.outcome;
  return mapPage(sent.value, (c: Stripe.Customer) => ({
    kind: 'succeeded',
    result: {
      id: c.id,
      name: c.name ?? null,
      email: c.email ?? null,
      reference: c.metadata?.[CUSTOMER_REFERENCE_METADATA_KEY] ?? null,
      created: new Date(c.created * 1000),
    },
  }));
}

export async function listCustomerPaymentMethods(
  client: StripeClient,
  customer: string,
  request: ListPageRequest,
): Promise<GatewayOutcome<GatewayListPage<GatewayPaymentMethodDetails>>> {
  const params: Stripe.CustomerListPaymentMethodsParams = pageParams(request);
  const sent = await client.send(undefined, (o) => client.sdk.customers.listPaymentMethods(customer, params, o));
  if (!sent.ok) return sent.outcome;
  return mapPage(sent.value, (pm) => ({ kind: 'succeeded', result: paymentMethodDetails(pm) }));
}

export async function listPayments(
  client: StripeClient,
  request: ListPageRequest,
): Promise<GatewayOutcome<GatewayListPage<GatewayPayment>>> {
  const params: Stripe.PaymentIntentListParams = {
    ...pageParams(request),
    ...createdParam(request.created),
    expand: PAYMENTS_EXPAND,
  };
  const sent = await client.send(undefined, (o) => client.sdk.paymentIntents.list(params, o));
  if (!sent.ok) return sent.outcome;
  return mapPage(sent.value, (pi) => paymentOutcome(pi, 'read'));
}

export async function listRefundsCreated(
  client: StripeClient,
  request: ListPageRequest,
): Promise<GatewayOutcome<GatewayListPage<GatewayRefundOfPayment>>> {
  const params: Stripe.RefundListParams = {
    ...pageParams(request),
    ...createdParam(request.created),
    expand: REFUNDS_EXPAND,
  };
  const sent = await client.send(undefined, (o) => client.sdk.refunds.list(params, o));
  if (!sent.ok) return sent.outcome;
  return mapPage(sent.value, (r): GatewayOutcome<GatewayRefundOfPayment> => {
    const refund = refundOutcome(r);
    if (!('result' in refund) || refund.result === undefined || refund.result === null)
      return refund as GatewayOutcome<never>;
    const pi = r.payment_intent;
    if (pi === null || typeof pi === 'string')
      return { kind: 'succeeded', result: { refund: refund.result, payment: null } };
    const payment = paymentOutcome(pi, 'read');
    if (!('result' in payment) || payment.result === undefined || payment.result === null)
      return payment as GatewayOutcome<never>;
    return { kind: 'succeeded', result: { refund: refund.result, payment: payment.result } };
  });
}

export async function listDisputes(
  client: StripeClient,
  request: ListPageRequest,
): Promise<GatewayOutcome<GatewayListPage<GatewayDispute>>> {
  const params: Stripe.DisputeListParams = {
    ...pageParams(request),
    ...createdParam(request.created),
    expand: ['data.balance_transactions'],
  };
  const sent = await client.send(undefined, (o) => client.sdk.disputes.list(params, o));
  if (!sent.ok) return sent.outcome;
  return mapPage(sent.value, disputeOutcome);
}

export async function listPayouts(
  client: StripeClient,
  request: ListPageRequest,
): Promise<GatewayOutcome<GatewayListPage<GatewayPayout>>> {
  const params: Stripe.PayoutListParams = { ...pageParams(request), ...createdParam(request.created) };
  const sent = await client.send(undefined, (o) => client.sdk.payouts.list(params, o));
  if (!sent.ok) return sent.outcome;
  return mapPage(sent.value, payoutOutcome);
}
