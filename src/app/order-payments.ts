// Checkout payments (issue 20, O3): POST /v1/orders/{id}/payments attaches a PaymentIntent a storefront made at
// checkout, on the same gateway account, to an order. Settle did not make it, so it is an `external` charge (as a
// webhook would record it: app/webhooks/sync-payment.ts externalChargeRow), with order_id, the order's account and a
// payment method; the database makes the order's payment summary and records at commit (migration 0022), so this
// module writes only the transaction.
//
// 1. The PaymentIntent (and, for a new payment method, its method's details) is read from the default gateway,
//    outside any database transaction.
// 2. One database transaction, under the order's lock (lockOrder, taken first: the attaches, captures and refunds of
//    one order are decided one at a time, so the total check sees every charge before it): the checks, then either
//    the charge Settle already holds for that PaymentIntent (seen by a webhook before) put on the order, or a new
//    external charge. The read's gateway log rows are committed with it. A refusal writes nothing.
// 3. The response, read after the commit (the summaries are made at commit): { order, transaction }, 201 when the
//    payment was attached now, 200 when it was already on this order.
//
// The route runs it under the request's Idempotency-Key (http/keyed-work.ts, as invoice payments), so a retry of the
// same key replays the first response; a retry without a key finds the attachment and answers 200.
import { ConflictError, SettleError, ValidationError } from '../domain/errors.js';
import { formatAmount } from '../domain/money.js';
import { stateLabel, stateOf } from '../domain/transaction-state.js';
import { findDefaultGateway } from '../store/gateway-records-repo.js';
import { lockOrder, orderChargesAmount } from '../store/orders-repo.js';
import { findPaymentMethodRow } from '../store/payment-methods-repo.js';
import type { GatewayRow, OrderRow, TransactionRow, Tx } from '../store/schema.js';
import {
  compareAndSetTransaction,
  insertTransaction,
  lockChargeByPaymentIntent,
  type TransactionChanges,
} from '../store/transactions-repo.js';
import type { CommandResult } from './command-runner.js';
import { type Deps, findPaymentMethodRef, type RequestContext, today } from './deps.js';
import { collectGatewayLogs, type GatewayLogRecord, insertGatewayLogs } from './gateway-log.js';
import type { GatewayOutcome, GatewayPayment, GatewayPaymentMethodDetails } from './gateway-port.js';
import { type OrderView, orderView, requireOrder } from './orders.js';
import { gatewayRefusal } from './saved-cards.js';
import { presentTransaction, type TransactionView } from './transactions/present.js';
import {
  externalChargeRow,
  orderAttachChanges,
  paymentChanges,
  paymentMethodOfPayment,
  readPaymentMethod,
} from './webhooks/sync-payment.js';

export interface AttachPaymentInput {
  gateway_ref_number?: unknown;
  payment_method_id?: string | null;
  allow_overpayment?: boolean;
}

export interface AttachedPaymentView {
  order: OrderView;
  transaction: TransactionView;
}

/** The PaymentIntent states a checkout payment can be attached in, and what each is recorded as. */
const ATTACHABLE = ['requires_capture', 'succeeded', 'processing'] as const;

const PI_PATTERN = /^pi_[A-Za-z0-9]{1,200}$/;

function parsePaymentIntentId(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new ValidationError(
      'parameter_missing',
      'gateway_ref_number is required: the PaymentIntent (pi_...) made at checkout.',
      'gateway_ref_number',
    );
  }
  if (!PI_PATTERN.test(value)) {
    throw new ValidationError(
      'invalid_gateway_ref_number',
      'gateway_ref_number must be a PaymentIntent id (pi_ followed by letters and digits).',
      'gateway_ref_number',
    );
  }
  return value;
}

/** What the payment adds to the order: authorized when authorized, captured when captured, else its amount. */
function heldBy(p: GatewayPayment): number {
  if (p.status === 'requires_capture') return p.authorized_amount;
  if (p.status === 'succeeded') return p.captured_amount;
  return p.amount;
}

/** The PaymentIntent as the gateway holds it; 400 when the gateway does not know it. */
function paymentOf(outcome: GatewayOutcome<GatewayPayment>, paymentIntentId: string): GatewayPayment {
  if (
    (outcome.kind === 'succeeded' || outcome.kind === 'pending' || outcome.kind === 'requires_action') &&
    outcome.result
  )
    return outcome.result;
  if ((outcome.kind === 'declined' || outcome.kind === 'invalid_request') && outcome.result) return outcome.result;
  if (outcome.kind === 'invalid_request') {
    throw new ValidationError(
      'payment_intent_not_found',
      `The gateway does not know PaymentIntent ${paymentIntentId}: ${outcome.error.message}`,
      'gateway_ref_number',
    );
  }
  throw gatewayRefusal(outcome, `reading PaymentIntent ${paymentIntentId}`);
}

interface GatewayRead {
  gateway: GatewayRow;
  payment: GatewayPayment;
  method: GatewayPaymentMethodDetails | null;
  logs: GatewayLogRecord[];
}

async function readCheckout(deps: Deps, paymentIntentId: string, wantMethod: boolean): Promise<GatewayRead> {
  const gateway = await findDefaultGateway(deps.db);
  if (!gateway) {
    throw new SettleError(
      'invalid_request',
      'no_default_gateway',
      'No gateway is configured as the default; create one with POST /v1/gateways (is_default true).',
    );
  }
  const adapter = deps.gateways.forRecord(gateway);
  const { value, records } = await collectGatewayLogs(async () => {
    const payment = paymentOf(await adapter.retrieve(paymentIntentId), paymentIntentId);
    // A PaymentIntent Settle does not know may name one: it is kept as a one-time method, with its details.
    const method =
      wantMethod && ATTACHABLE.includes(payment.status as (typeof ATTACHABLE)[number])
        ? await readPaymentMethod({ gateway: adapter }, payment)
        : null;
    return { payment, method };
  });
  return { gateway, ...value, logs: records };
}

/** The checks that need no row lock: the PaymentIntent's state and currency against the order. */
function checkPayment(order: OrderRow, p: GatewayPayment, paymentIntentId: string): void {
  if (p.currency !== order.currency) {
    throw new ValidationError(
      'currency_mismatch',
      `PaymentIntent ${paymentIntentId} is in ${p.currency}; order ${order.id} is in ${order.currency}.`,
      'gateway_ref_number',
    );
  }
  if (!ATTACHABLE.includes(p.status as (typeof ATTACHABLE)[number])) {
    throw new ValidationError(
      'payment_intent_unexpected_state',
      `PaymentIntent ${paymentIntentId} is ${p.status}; a checkout payment is attached once authorized (requires_capture), captured (succeeded) or processing.`,
      'gateway_ref_number',
    );
  }
}

/** The payment method the request names: it must exist and be the PaymentIntent's (400 otherwise). */
async function namedPaymentMethod(trx: Tx, id: string, p: GatewayPayment): Promise<string> {
  const pm = await findPaymentMethodRow(trx, id);
  if (!pm) {
    throw new ValidationError('payment_method_not_found', `Payment method ${id} does not exist.`, 'payment_method_id');
  }
  const token = pm.gateway_token;
  if (p.payment_method === null || token !== p.payment_method) {
    throw new ValidationError(
      'payment_method_mismatch',
      `Payment method ${id} (${token}) is not the one PaymentIntent ${p.refs.payment_intent ?? ''} was paid with (${p.payment_method ?? 'none'}).`,
      'payment_method_id',
    );
  }
  return id;
}

/** 400 order_total_exceeded unless allowed: the order's charges plus this payment beyond its total. */
async function checkTotal(trx: Tx, order: OrderRow, p: GatewayPayment, allow: boolean): Promise<void> {
  if (allow) return;
  const held = await orderChargesAmount(trx, order.id);
  const adding = heldBy(p);
  if (held + adding > order.total) {
    const money = (n: number) => formatAmount(n, order.currency);
    throw new ValidationError(
      'order_total_exceeded',
      `The payment of ${money(adding)} takes order ${order.id} past its total of ${money(order.total)}: its payments already hold ${money(held)}. Send allow_overpayment: true to attach it anyway.`,
      'gateway_ref_number',
    );
  }
}

/**
 * The database transaction: lock the order, check, and write the transaction (a new external charge, or the one
 * Settle already holds put on the order). Returns the row and whether it was attached now.
 */
async function attachInTransaction(
  deps: Deps,
  ctx: RequestContext,
  trx: Tx,
  orderId: string,
  input: AttachPaymentInput,
  read: GatewayRead,
  paymentIntentId: string,
): Promise<{ row: TransactionRow; created: boolean }> {
  await lockOrder(trx, orderId);
  const order = await requireOrder(trx, orderId);
  const p = read.payment;
  const existing = await lockChargeByPaymentIntent(trx, paymentIntentId);
  if (existing && existing.order_id === order.id) return { row: existing, created: false };
  if (existing && existing.order_id !== null) {
    throw new ValidationError(
      'payment_intent_on_another_order',
      `PaymentIntent ${paymentIntentId} is already attached to order ${existing.order_id} (transaction ${existing.id}).`,
      'gateway_ref_number',
    );
  }
  checkPayment(order, p, paymentIntentId);
  const now = deps.clock.now();
  const named =
    input.payment_method_id === undefined || input.payment_method_id === null
      ? null
      : await namedPaymentMethod(trx, input.payment_method_id, p);
  if (existing && named !== null && existing.payment_method_id !== null && existing.payment_method_id !== named) {
    throw new ValidationError(
      'payment_method_mismatch',
      `Transaction ${existing.id} of PaymentIntent ${paymentIntentId} is paid with payment method ${existing.payment_method_id}, not ${named}.`,
      'payment_method_id',
    );
  }
  await checkTotal(trx, order, p, input.allow_overpayment === true);
  const methodId =
    named ??
    existing?.payment_method_id ??
    (await paymentMethodOfPayment(trx, p, read.method, read.gateway.id, order, now));
  if (methodId === null) {
    throw new ValidationError(
      'payment_method_required',
      `PaymentIntent ${paymentIntentId} names no payment method; a checkout payment is recorded with the method it was paid with.`,
      'gateway_ref_number',
    );
  }
  const action = `attached to order ${order.id} at checkout (PaymentIntent ${paymentIntentId})`;
  let row: TransactionRow;
  if (existing) {
    if (existing.status === 'process' || existing.status === 'needs_review') {
      throw new ConflictError(
        'transaction_in_flight',
        `Transaction ${existing.id} of PaymentIntent ${paymentIntentId} is ${stateLabel(stateOf(existing))}: a gateway call for it is still being confirmed. Try again once it is resolved.`,
      );
    }
    // The charge is brought to what the gateway holds now too (as a webhook would), in the same write.
    const fresher = paymentChanges(existing, p, now);
    const attach: TransactionChanges =
      existing.processing_mode === 'external'
        ? orderAttachChanges(existing, p, order, methodId)
        : { order_id: order.id, account_id: existing.account_id ?? order.account_id };
    const saved = await compareAndSetTransaction(
      trx,
      existing,
      { ...(fresher?.changes ?? {}), ...attach },
      ctx.actor,
      fresher === null ? action : `${action}; ${fresher.action}`,
    );
    if (!saved) throw new Error(`transaction ${existing.id} changed under its row lock`);
    row = saved;
  } else {
    const fresh = externalChargeRow(p, {
      gatewayId: read.gateway.id,
      now,
      source: 'api',
      connectedAccountId: null,
      orderId: order.id,
      accountId: order.account_id,
      paymentMethodId: methodId,
    });
    if (fresh === null) throw new Error(`PaymentIntent ${paymentIntentId} is ${p.status}: nothing to record`);
    row = await insertTransaction(trx, fresh, ctx.actor, `${action} (external payment)`);
  }
  // The read's log rows, on the transaction (the database names the order's summary at commit).
  await insertGatewayLogs(
    trx,
    read.logs.map((log) => ({ ...log, transaction_id: log.transaction_id ?? row.id })),
  );
  return { row, created: true };
}

/**
 * POST /v1/orders/{id}/payments: attaches a checkout PaymentIntent to the order. 201 { order, transaction } when
 * attached now, 200 when it already was (on this order); 400 with nothing written for an unknown PaymentIntent
 * (payment_intent_not_found), one in another currency (currency_mismatch), in another state than requires_capture,
 * succeeded or processing (payment_intent_unexpected_state), already on another order
 * (payment_intent_on_another_order), a payment method that does not exist or is not the PaymentIntent's
 * (payment_method_not_found, payment_method_mismatch), or one that takes the order past its total without
 * allow_overpayment (order_total_exceeded); 404 unknown order.
 */
export async function attachCheckoutPayment(
  deps: Deps,
  ctx: RequestContext,
  orderId: string,
  input: AttachPaymentInput,
): Promise<CommandResult<AttachedPaymentView>> {
  const paymentIntentId = parsePaymentIntentId(input.gateway_ref_number);
  // An unknown order is a 404 before anything is asked of the gateway.
  await requireOrder(deps.db, orderId);
  const wantMethod = input.payment_method_id === undefined || input.payment_method_id === null;
  const read = await readCheckout(deps, paymentIntentId, wantMethod);
  const done = await deps.commands.run<{ row: TransactionRow; created: boolean }>(undefined, async (trx) => ({
    status: 200,
    body: await attachInTransaction(deps, ctx, trx, orderId, input, read, paymentIntentId),
  }));
  const { row, created } = done.body;
  const day = await today(deps);
  const pm =
    row.payment_method_id === null ? null : ((await findPaymentMethodRef(deps.db, row.payment_method_id)) ?? null);
  return {
    status: created ? 201 : 200,
    body: { order: await orderView(deps.db, orderId), transaction: presentTransaction(row, pm, day) },
  };
}
