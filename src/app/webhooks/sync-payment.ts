// PaymentIntent and charge events (W3, P9, W5): the payment is read again from the gateway (an event's copy may be
// stale or out of order) and the ledger is brought to what the gateway holds now, through the state machine. So
// events applied in any order, or twice, end in the same state. A payment Settle made and whose call is still in
// flight is resolved through that call's attempt (in-flight.ts); a payment made by another system on the same
// account becomes an `external` charge.
import { stateLabel, stateOf, type TransactionEvent } from '../../domain/transaction-state.js';
import type { Db, TransactionRow } from '../../store/schema.js';
import {
  compareAndSetTransaction,
  diffChanges,
  insertTransaction,
  type TransactionChanges,
} from '../../store/transactions-repo.js';
import { collectGatewayLogs, insertGatewayLogs } from '../gateway-log.js';
import type { GatewayPayment, GatewayRefund } from '../gateway-port.js';
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
    return { payment, refunds };
  });
  try {
    const outcome = await ctx.deps.db.transaction().execute(async (trx) => {
      await insertGatewayLogs(trx, records);
      return applyPayment(trx, ctx, read.payment, read.refunds);
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
    const created = await createExternalCharge(trx, ctx, payment);
    if (!created) return `${pi}: nothing to record yet (the payment is ${payment.status})`;
    charge = created;
    notes.push(`${charge.id}: external payment ${pi} recorded as ${stateLabel(stateOf(charge))}`);
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

/** W5: a payment another system made on the same gateway account, recorded as an `external` charge. */
async function createExternalCharge(trx: Db, ctx: SyncContext, p: GatewayPayment): Promise<TransactionRow | undefined> {
  const state = externalState(p);
  if (state === null) return undefined;
  const now = ctx.now;
  const base = transactionDefaults(newId('transaction', now.getTime()), now);
  const capturedNow = p.status === 'succeeded';
  const row = {
    ...base,
    ...state,
    amount: p.amount,
    currency: p.currency,
    authorized_amount: p.status === 'requires_capture' ? p.authorized_amount : capturedNow ? p.amount : 0,
    captured_amount: p.captured_amount,
    gateway_id: ctx.gatewayRow.id,
    // Connect (M6): a payment made on a connected account Settle knows is a direct charge on it.
    connected_account_id:
      ctx.account === null || ctx.account === undefined
        ? null
        : ((await knownConnectedAccount(trx, ctx.gatewayRow.id, ctx.account))?.id ?? null),
    ...applicationFeeFields({ refunded_application_fee: 0 }, p.application_fee),
    gateway_payment_intent: p.refs.payment_intent,
    gateway_charge: p.refs.charge,
    source: ctx.source ?? 'webhook',
    processing_mode: 'external',
    authorization_expires_at: p.status === 'requires_capture' ? p.authorization_expires_at : null,
    uncaptured_method: state.payment_status === 'uncaptured' ? 'automatic' : null,
    description: `Payment ${p.refs.payment_intent ?? ''} made outside Settle`,
    processed_at: state.status === 'completed' || state.status === 'failed' ? now : null,
    ...(capturedNow ? balanceFields(p.balance, { amount: p.captured_amount, currency: p.currency }) : {}),
    ...(state.status === 'failed' ? failedFields(p, now) : {}),
  };
  return insertTransaction(trx, row as typeof base, ctx.actor, 'created from the gateway (external payment)');
}
