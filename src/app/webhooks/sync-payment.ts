// PaymentIntent and charge events (W3, P9, W5): the payment is read again from the gateway (an event's copy may be
// stale or out of order) and the ledger is brought to what the gateway holds now, through the state machine. So
// events applied in any order, or twice, end in the same state. A payment Settle made and whose call is still in
// flight is resolved through that call's attempt (in-flight.ts); a payment made by another system on the same
// account becomes an `external` charge.
//
// Issue 20: a storefront's checkout names the order it pays for in the PaymentIntent's metadata (settle_order_id: an
// ord_ id, or order_external_id: the order's external_id). Such an external payment is recorded on that order: the
// charge gets order_id, the order's account, and a one-time payment method made from the PaymentIntent's (so the
// database gives it a payment summary and records at commit), and `authorize` when it was authorized at checkout
// (capture_method manual). An external charge recorded before without order gets them when its payment names one.
// An order that does not exist, or is in another currency, is not used: the payment is still recorded, without
// order, and the history says why. POST /v1/orders/{id}/payments (app/order-payments.ts) attaches the same way.
import { stateLabel, stateOf, type TransactionEvent } from '../../domain/transaction-state.js';
import { findOrderRow, listOrderRows } from '../../store/orders-repo.js';
import { insertPaymentMethod, lockPaymentMethodsByToken } from '../../store/payment-methods-repo.js';
import type { Db, NewTransactionRow, OrderRow, TransactionRow, TransactionSource } from '../../store/schema.js';
import {
  compareAndSetTransaction,
  diffChanges,
  insertTransaction,
  type TransactionChanges,
} from '../../store/transactions-repo.js';
import { collectGatewayLogs, insertGatewayLogs } from '../gateway-log.js';
import type { GatewayPayment, GatewayPaymentMethodDetails, GatewayRefund } from '../gateway-port.js';
import { newId } from '../ids.js';
import { balanceFields, errorFields, NO_ERROR, stateChange } from '../processing/apply-outcome.js';
import { transactionDefaults } from '../transactions/create-transaction.js';
import { paymentError } from '../processing/attempt-call.js';
import { conclusiveFor, resolveInFlight } from './in-flight.js';
import { ApplyFailed, CAPTURED_LABELS, lockChargeOfPayment, resultOf, type SyncContext } from './sync-context.js';
import { syncRefunds } from './sync-refunds.js';
import { applicationFeeFields, knownConnectedAccount, syncApplicationFee } from '../connect/direct-charges.js';

/** Events after which a payment's refunds must be read too. */
export const REFUND_EVENT = /^(refund\.|charge\.refund)/;

/** Reads the payment (and its refunds when they may have changed) and applies it; returns what was done. */
export async function syncPayment(ctx: SyncContext, paymentIntentId: string): Promise<string> {
  return (await syncPaymentReading(ctx, paymentIntentId)).outcome;
}

/** syncPayment, also saying whether the payment's refunds were read. */
export async function syncPaymentReading(
  ctx: SyncContext,
  paymentIntentId: string,
): Promise<{ outcome: string; refundsRead: boolean }> {
  const { value: read, records } = await collectGatewayLogs(async () => {
    const payment = resultOf(await ctx.gateway.retrieve(paymentIntentId), `payment ${paymentIntentId}`);
    const wantRefunds = payment.refunded_amount > 0 || [...ctx.eventTypes].some((t) => REFUND_EVENT.test(t));
    const refunds = wantRefunds
      ? resultOf(await ctx.gateway.listRefunds(paymentIntentId), `the refunds of ${paymentIntentId}`)
      : null;
    // Issue 20: a payment made elsewhere for an order gets a payment method of its own; its details are read now,
    // outside the database transaction.
    const method =
      payment.transaction_id === null && orderReference(payment) !== null
        ? await readPaymentMethod(ctx, payment)
        : null;
    return { payment, refunds, method };
  });
  try {
    const outcome = await ctx.deps.db.transaction().execute(async (trx) => {
      await insertGatewayLogs(trx, records);
      return applyPayment(trx, ctx, read.payment, read.refunds, read.method);
    });
    return { outcome, refundsRead: read.refunds !== null };
  } catch (error) {
    await insertGatewayLogs(ctx.deps.db, records);
    throw error;
  }
}

/** Applies a payment as read (and its refunds when given) inside `trx`, without reading the gateway (W3, W6). */
export async function applyPayment(
  trx: Db,
  ctx: SyncContext,
  payment: GatewayPayment,
  refunds: GatewayRefund[] | null,
  method: GatewayPaymentMethodDetails | null = null,
): Promise<string> {
  const pi = payment.refs.payment_intent;
  const notes: string[] = [];
  let charge = await lockChargeOfPayment(trx, payment.transaction_id, pi);
  if (!charge) {
    if (payment.transaction_id !== null) {
      throw new ApplyFailed(
        `The payment ${pi} names Settle transaction ${payment.transaction_id}, which is not in this ledger.`,
        false,
      );
    }
    const created = await createExternalCharge(trx, ctx, payment, method);
    if (!created) return `${pi}: nothing to record yet (the payment is ${payment.status})`;
    charge = created.row;
    notes.push(`${charge.id}: external payment ${pi} recorded as ${stateLabel(stateOf(charge))}${created.onOrder}`);
  } else if (charge.status === 'process' || charge.status === 'needs_review') {
    notes.push(await resolveInFlight(trx, ctx, charge, null, (action) => conclusiveFor(action, payment)));
  } else {
    const plan = paymentChanges(charge, payment, ctx.now);
    if (plan === null) {
      notes.push(`${charge.id}: already ${stateLabel(stateOf(charge))}`);
    } else {
      const saved = await compareAndSetTransaction(trx, charge, plan.changes, ctx.actor, plan.action);
      if (!saved) throw new Error(`transaction ${charge.id} changed under its row lock`);
      notes.push(`${charge.id}: ${plan.action}`);
    }
  }
  if (charge.processing_mode === 'external' && charge.order_id === null && orderReference(payment) !== null) {
    const note = await attachExternalChargeToOrder(trx, ctx, charge.id, payment, method);
    if (note !== null) notes.push(note);
  }
  if (refunds !== null) {
    const current = await lockChargeOfPayment(trx, charge.id, null);
    if (current) notes.push(...(await syncRefunds(trx, ctx, current, payment, refunds)));
  }
  // Connect (M6): a direct charge's application fee, as the platform holds it (read by the scoped gateway).
  const fee = await syncApplicationFee(trx, ctx.actor, charge.id, payment.application_fee);
  if (fee !== null) notes.push(fee);
  return notes.join('; ');
}

const gatewayRefs = (row: TransactionRow, p: GatewayPayment): TransactionChanges => ({
  gateway_payment_intent: p.refs.payment_intent ?? row.gateway_payment_intent,
  gateway_charge: p.refs.charge ?? row.gateway_charge,
});

function captured(row: TransactionRow, p: GatewayPayment, now: Date): TransactionChanges {
  return {
    ...gatewayRefs(row, p),
    authorized_amount: Math.max(row.authorized_amount, p.captured_amount),
    captured_amount: p.captured_amount,
    authorization_expires_at: null,
    ...balanceFields(p.balance, { amount: p.captured_amount, currency: p.currency }),
    ...NO_ERROR,
    processed_at: now,
  };
}

function failedFields(p: GatewayPayment, now: Date): TransactionChanges {
  const error = paymentError(
    p,
    'payment_intent_canceled',
    `The payment was canceled at the gateway (${p.cancellation_reason ?? 'no reason given'}).`,
  );
  return { ...errorFields(error), processed_at: now };
}

/**
 * What the gateway's payment calls for on a row not in process: a gateway-driven move of the state machine
 * (W3, P9) with its amounts, or fresher fees and availability; null when the row already says it.
 */
export function paymentChanges(
  row: TransactionRow,
  p: GatewayPayment,
  now: Date,
): { action: string; changes: TransactionChanges } | null {
  const label = stateLabel(stateOf(row));
  const move = (event: TransactionEvent, changes: TransactionChanges, action: string) => ({
    action,
    changes: { ...stateChange(row, event), ...changes },
  });
  let plan: { action: string; changes: TransactionChanges } | null = null;
  if (label === 'pending' || label === 'pending_payment_intent') {
    if (p.status === 'succeeded')
      plan = move('capture_succeeded', captured(row, p, now), 'payment succeeded at the gateway');
    else if (p.status === 'requires_capture' && label === 'pending_payment_intent') {
      plan = move(
        'authorization_succeeded',
        {
          ...gatewayRefs(row, p),
          authorized_amount: p.authorized_amount,
          authorization_expires_at: p.authorization_expires_at,
          ...NO_ERROR,
        },
        'authorized at the gateway (customer authenticated)',
      );
    } else if (p.status === 'canceled' && label === 'pending_payment_intent')
      plan = move('canceled_at_gateway', {}, 'canceled at the gateway');
    else if (p.status === 'canceled' || (p.status === 'requires_payment_method' && p.last_error !== null)) {
      plan = move(
        'payment_failed',
        { ...gatewayRefs(row, p), ...failedFields(p, now) },
        'payment failed at the gateway',
      );
    }
  } else if (label === 'completed/authorized') {
    if (p.status === 'canceled') {
      const automatic =
        p.cancellation_reason === null || p.cancellation_reason === 'automatic' || p.cancellation_reason === 'expired';
      plan = move(
        'authorization_expired',
        { uncaptured_method: automatic ? 'automatic' : 'manual', authorization_expires_at: null },
        automatic
          ? 'authorization expired at the gateway'
          : `authorization canceled at the gateway (${p.cancellation_reason})`,
      );
    } else if (p.status === 'succeeded' && p.captured_amount > 0) {
      const partial = p.captured_amount < row.authorized_amount;
      plan = move(
        partial ? 'partial_capture_succeeded' : 'capture_succeeded',
        captured(row, p, now),
        'captured at the gateway',
      );
    } else if (p.status === 'requires_capture') {
      plan = {
        action: 'authorization updated at the gateway',
        changes: { authorization_expires_at: p.authorization_expires_at },
      };
    }
  } else if (CAPTURED_LABELS.has(label) && p.balance !== null) {
    plan = {
      action: 'balance transaction updated at the gateway',
      changes: balanceFields(p.balance, { amount: p.captured_amount, currency: p.currency }),
    };
  }
  if (plan === null || Object.keys(diffChanges(row, plan.changes)).length === 0) return null;
  return plan;
}

/** The ledger state of a payment Settle did not make; null while there is nothing to record (not confirmed yet). */
function externalState(p: GatewayPayment): Pick<TransactionRow, 'status' | 'payment_status'> | null {
  switch (p.status) {
    case 'processing':
      return { status: 'pending', payment_status: null };
    case 'requires_action':
      return { status: 'pending_payment_intent', payment_status: null };
    case 'requires_capture':
      return { status: 'completed', payment_status: 'authorized' };
    case 'succeeded':
      return { status: 'completed', payment_status: p.captured_amount < p.amount ? 'partially_captured' : 'captured' };
    case 'canceled':
      return p.refs.charge !== null
        ? { status: 'completed', payment_status: 'uncaptured' }
        : { status: 'canceled', payment_status: null };
    case 'requires_payment_method':
      return p.last_error !== null ? { status: 'failed', payment_status: null } : null;
    case 'requires_confirmation':
      return null;
  }
}

/** Where an external charge is recorded: its gateway, who made the row, and (issue 20) its order. */
export interface ExternalChargeTarget {
  gatewayId: string;
  now: Date;
  source: TransactionSource;
  /** Connect (M6): the connected account (cac_) of a direct charge on it. */
  connectedAccountId: string | null;
  orderId: string | null;
  accountId: string | null;
  paymentMethodId: string | null;
}

/**
 * W5: the row of a payment another system made on the same gateway account, an `external` charge; null while there
 * is nothing to record (not confirmed yet). `authorize` says it was authorized at checkout (capture_method manual):
 * on an order, the database then makes an external authorization record (reference: the pi_ id), else a payment
 * record (reference: the balance transaction, null until known).
 */
export function externalChargeRow(p: GatewayPayment, target: ExternalChargeTarget): NewTransactionRow | null {
  const state = externalState(p);
  if (state === null) return null;
  const now = target.now;
  const base = transactionDefaults(newId('transaction', now.getTime()), now);
  const capturedNow = p.status === 'succeeded';
  const row = {
    ...base,
    ...state,
    amount: p.amount,
    currency: p.currency,
    authorize: p.capture_method === 'manual',
    authorized_amount: p.status === 'requires_capture' ? p.authorized_amount : capturedNow ? p.amount : 0,
    // Only a succeeded payment has captured anything: a bank debit still processing shows its pending charge's
    // amount as captured (amount_captured) before it settles.
    captured_amount: capturedNow ? p.captured_amount : 0,
    gateway_id: target.gatewayId,
    connected_account_id: target.connectedAccountId,
    ...applicationFeeFields({ refunded_application_fee: 0 }, p.application_fee),
    gateway_payment_intent: p.refs.payment_intent,
    gateway_charge: p.refs.charge,
    source: target.source,
    processing_mode: 'external',
    authorization_expires_at: p.status === 'requires_capture' ? p.authorization_expires_at : null,
    uncaptured_method: state.payment_status === 'uncaptured' ? 'automatic' : null,
    description: `Payment ${p.refs.payment_intent ?? ''} made outside Settle`,
    processed_at: state.status === 'completed' || state.status === 'failed' ? now : null,
    ...(capturedNow ? balanceFields(p.balance, { amount: p.captured_amount, currency: p.currency }) : {}),
    ...(state.status === 'failed' ? failedFields(p, now) : {}),
    order_id: target.orderId,
    account_id: target.accountId,
    payment_method_id: target.paymentMethodId,
  };
  return row as typeof base;
}

/** W5: a payment another system made on the same gateway account, recorded as an `external` charge. */
async function createExternalCharge(
  trx: Db,
  ctx: SyncContext,
  p: GatewayPayment,
  method: GatewayPaymentMethodDetails | null,
): Promise<{ row: TransactionRow; onOrder: string } | undefined> {
  if (externalState(p) === null) return undefined;
  const found = await orderOfPayment(trx, p);
  const order = found.order;
  const target: ExternalChargeTarget = {
    gatewayId: ctx.gatewayRow.id,
    now: ctx.now,
    source: ctx.source ?? 'webhook',
    // Connect (M6): a payment made on a connected account Settle knows is a direct charge on it.
    connectedAccountId:
      ctx.account === null || ctx.account === undefined
        ? null
        : ((await knownConnectedAccount(trx, ctx.gatewayRow.id, ctx.account))?.id ?? null),
    orderId: order?.id ?? null,
    accountId: order?.account_id ?? null,
    paymentMethodId:
      order === null ? null : await paymentMethodOfPayment(trx, p, method, ctx.gatewayRow.id, order, ctx.now),
  };
  const row = externalChargeRow(p, target);
  if (row === null) return undefined;
  const onOrder = order !== null ? ` on order ${order.id}` : found.why !== null ? ` without order: ${found.why}` : '';
  const inserted = await insertTransaction(
    trx,
    row,
    ctx.actor,
    `created from the gateway (external payment)${onOrder}`,
  );
  return { row: inserted, onOrder };
}

/** Issue 20: the metadata keys a checkout names its order with: Settle's id (ord_) or the order's external_id. */
export const ORDER_ID_METADATA_KEY = 'settle_order_id';
export const ORDER_EXTERNAL_ID_METADATA_KEY = 'order_external_id';

/** The order a payment's metadata names (settle_order_id first), or null when it names none. */
export function orderReference(p: GatewayPayment): { key: string; value: string } | null {
  for (const key of [ORDER_ID_METADATA_KEY, ORDER_EXTERNAL_ID_METADATA_KEY]) {
    const value = p.metadata?.[key];
    if (typeof value === 'string' && value.trim() !== '') return { key, value: value.trim() };
  }
  return null;
}

/**
 * The order a payment's metadata names, when it exists and is in the payment's currency; otherwise null and why
 * (null when the metadata names no order).
 */
export async function orderOfPayment(
  trx: Db,
  p: GatewayPayment,
): Promise<{ order: OrderRow; why: null } | { order: null; why: string | null }> {
  const ref = orderReference(p);
  if (ref === null) return { order: null, why: null };
  const order =
    ref.key === ORDER_ID_METADATA_KEY
      ? await findOrderRow(trx, ref.value)
      : (await listOrderRows(trx, { external_id: ref.value, limit: 1 }))[0];
  if (order === undefined)
    return { order: null, why: `the order its metadata names (${ref.key} ${ref.value}) does not exist` };
  if (order.currency !== p.currency) {
    return {
      order: null,
      why: `the order its metadata names (${order.id}) is in ${order.currency}, the payment in ${p.currency}`,
    };
  }
  return { order, why: null };
}

/** The payment method's details as the gateway holds them (null when it cannot say: the method is made without). */
export async function readPaymentMethod(
  ctx: Pick<SyncContext, 'gateway'>,
  p: GatewayPayment,
): Promise<GatewayPaymentMethodDetails | null> {
  if (p.payment_method === null) return null;
  const outcome = await ctx.gateway.retrievePaymentMethod(p.payment_method);
  if (outcome.kind === 'succeeded') return outcome.result;
  // Unreachable: the event is tried again later rather than recording a method without its details.
  if (outcome.kind === 'retryable' || outcome.kind === 'unknown')
    resultOf(outcome, `payment method ${p.payment_method}`);
  return null;
}

/**
 * The payment method a checkout payment is recorded with on an order: the one Settle already has for the
 * PaymentIntent's method (the same gateway token), else a new `one_time` method of the order's account made from
 * the gateway's details (Settle keeps cards and US bank accounts; another kind is kept as a card without details).
 * Null when the payment names no method.
 */
export async function paymentMethodOfPayment(
  trx: Db,
  p: GatewayPayment,
  method: GatewayPaymentMethodDetails | null,
  gatewayId: string,
  order: OrderRow,
  now: Date,
): Promise<string | null> {
  const token = p.payment_method;
  if (token === null) return null;
  const existing = await lockPaymentMethodsByToken(trx, token);
  const mine = existing.find((m) => m.account_id === order.account_id) ?? existing[0];
  if (mine !== undefined) return mine.id;
  const details = method !== null && method.id === token ? method : null;
  const type = details?.type === 'us_bank_account' ? 'us_bank_account' : 'card';
  const id = newId('payment_method', now.getTime());
  await insertPaymentMethod(trx, {
    id,
    gateway_token: token,
    type,
    status: 'one_time',
    brand: details?.brand ?? null,
    last4: details?.last4 ?? null,
    exp_month: type === 'card' ? (details?.exp_month ?? null) : null,
    exp_year: type === 'card' ? (details?.exp_year ?? null) : null,
    funding: details?.funding ?? null,
    fingerprint: details?.fingerprint ?? null,
    account_id: order.account_id,
    contact_id: null,
    billing_email: null,
    gateway_id: gatewayId,
    gateway_customer: p.customer,
    metadata: JSON.stringify({ created_from: p.refs.payment_intent ?? '' }),
    created_at: now,
    updated_at: now,
  });
  return id;
}

/**
 * What puts an existing charge of a payment on an order: order_id, `authorize` when it was authorized at checkout,
 * and the payment method and account when it has none yet.
 */
export function orderAttachChanges(
  row: TransactionRow,
  p: GatewayPayment,
  order: OrderRow,
  paymentMethodId: string | null,
): TransactionChanges {
  return {
    order_id: order.id,
    authorize: row.authorize || p.capture_method === 'manual',
    payment_method_id: row.payment_method_id ?? paymentMethodId,
    account_id: row.account_id ?? order.account_id,
  };
}

/** An external charge recorded before without order, put on the order its payment's metadata names. */
async function attachExternalChargeToOrder(
  trx: Db,
  ctx: SyncContext,
  chargeId: string,
  p: GatewayPayment,
  method: GatewayPaymentMethodDetails | null,
): Promise<string | null> {
  const found = await orderOfPayment(trx, p);
  if (found.order === null) return found.why === null ? null : `${chargeId}: not put on an order: ${found.why}`;
  const row = await lockChargeOfPayment(trx, chargeId, null);
  if (!row || row.order_id !== null) return null;
  const pm =
    row.payment_method_id ?? (await paymentMethodOfPayment(trx, p, method, ctx.gatewayRow.id, found.order, ctx.now));
  const action = `put on order ${found.order.id} (named in the payment's metadata)`;
  const saved = await compareAndSetTransaction(
    trx,
    row,
    orderAttachChanges(row, p, found.order, pm),
    ctx.actor,
    action,
  );
  if (!saved) throw new Error(`transaction ${row.id} changed under its row lock`);
  return `${row.id}: ${action}`;
}
