// The gateway actions (P1-P6): authorize, capture, release and refund, each a planner for tx1 run by the
// exactly-once driver (run-action.ts). The planner runs under the row lock: it checks the state through the state
// machine's labels, the amounts, the payment method and the gateway, and says what to call.
import { capturableAmount, paymentStatusAfterRefund, refundableAmount } from '../../domain/amounts.js';
import { ValidationError } from '../../domain/errors.js';
import { checkStripeAmount, formatAmount, parseAmount } from '../../domain/money.js';
import { isPaymentMethodUsable } from '../../domain/to-fix.js';
import { stateOf, transition } from '../../domain/transaction-state.js';
import type { Db, NewTransactionRow, TransactionRow } from '../../store/schema.js';
import {
  compareAndSetTransaction,
  insertTransaction,
  type LockedForAction,
  sumRefundsInFlight,
} from '../../store/transactions-repo.js';
import type { Deps, RequestContext } from '../deps.js';
import { customerForCharge, needsSaving, SavedMethodNeeded } from '../saved-cards.js';
import { checkRefundApplicationFee } from '../connect/direct-charges.js';
import { checkRefundInvoice } from '../allocations.js';
import { buildNewTransaction } from '../transactions/create-transaction.js';
import type { AttemptRequest } from './attempt-call.js';
import { RowMoved } from './apply-outcome.js';
import { recoverAttempt } from './recover.js';
import { gatewayFor, type Plan, type Planner, requireState, runGatewayAction } from './run-action.js';

type Trx = Db;

export const REFUND_REASONS = ['duplicate', 'fraudulent', 'requested_by_customer'] as const;

const CAPTURED_STATES = ['completed/captured', 'completed/partially_captured', 'completed/partially_refunded'];

export function requireCharge(row: TransactionRow): void {
  if (row.record_type !== 'charge' || row.transaction_type !== 'normal') {
    throw new ValidationError(
      'not_a_charge',
      `Transaction ${row.id} is a ${row.record_type} of type ${row.transaction_type}; this action applies to normal charges.`,
      'id',
    );
  }
}

function requireGatewayCharge(row: TransactionRow, action: string): void {
  if (row.non_gateway) {
    throw new ValidationError(
      'non_gateway_transaction',
      `Transaction ${row.id} is non_gateway: no gateway is involved, so it cannot be ${action}; capture it to record it as paid.`,
      'id',
    );
  }
}

export function request(row: TransactionRow, fields: Partial<AttemptRequest>): AttemptRequest {
  return {
    amount: null,
    currency: row.currency,
    payment_method: null,
    customer: null,
    off_session: false,
    payment_intent: row.gateway_payment_intent,
    reason: null,
    description: row.description,
    ...fields,
  };
}

/** The gateway token of the transaction's payment method, which must be usable today (L8). */
function paymentToken(locked: LockedForAction, day: string): string {
  const { row, paymentMethod: pm } = locked;
  if (row.payment_method_id === null) {
    throw new ValidationError(
      'payment_method_required',
      `Transaction ${row.id} has no payment method; set payment_method_id first.`,
      'payment_method_id',
    );
  }
  if (pm === null) throw new Error(`transaction ${row.id} refers to a missing payment method`);
  if (!isPaymentMethodUsable(pm, day)) {
    throw new ValidationError(
      'invalid_payment_method',
      `Payment method ${pm.id} cannot be charged (status ${pm.status}${pm.exp_year ? `, expires ${pm.exp_month}/${pm.exp_year}` : ''}).`,
      'payment_method_id',
    );
  }
  return pm.gateway_token;
}

function requireIntent(row: TransactionRow): string {
  if (row.gateway_payment_intent === null)
    throw new Error(`transaction ${row.id} is authorized but has no payment intent`);
  return row.gateway_payment_intent;
}

/**
 * Open charge -> authorize (manual capture) or charge now (automatic capture). `offSession`: the customer is not
 * there (a scheduled charge of a saved method, S1), which the gateway needs to know for strong customer authentication.
 */
export function paymentPlan(
  locked: LockedForAction,
  day: string,
  action: 'authorize' | 'charge',
  offSession = false,
): Plan {
  const { row } = locked;
  requireGatewayCharge(row, action === 'authorize' ? 'authorized' : 'charged');
  if (row.amount <= 0) throw new ValidationError('invalid_amount', 'A charge needs a positive amount.', 'amount');
  checkStripeAmount(row.amount, row.currency, 'amount');
  // Saved cards (app/saved-cards.ts): a card with an owner is charged through its owner's gateway Customer; one not
  // attached yet (or whose save is still open) is saved first, outside any database transaction (run-action.ts).
  const pm = locked.paymentMethod;
  if (pm !== null && locked.gateway !== null && needsSaving(pm, locked.gateway.id, pm.gateway_id))
    throw new SavedMethodNeeded(pm.id, locked.gateway);
  const token = paymentToken(locked, day);
  const gateway = gatewayFor(locked);
  const customer = pm === null ? null : customerForCharge(pm, gateway.id);
  return {
    kind: 'call',
    transaction: row,
    charge: null,
    action,
    request: request(row, {
      amount: row.amount,
      payment_method: token,
      customer,
      payment_intent: null,
      off_session: offSession,
    }),
    gateway,
    revertStatus: 'open',
    responseStatus: 200,
  };
}

function releasePlanFor(locked: LockedForAction): Plan {
  const { row } = locked;
  const gateway = gatewayFor(locked);
  return {
    kind: 'call',
    transaction: row,
    charge: null,
    action: 'release',
    request: request(row, { payment_intent: requireIntent(row) }),
    gateway,
    revertStatus: 'completed',
    responseStatus: 200,
  };
}

/** P1: authorize an open charge. */
export function authorizeTransaction(deps: Deps, ctx: RequestContext, id: string) {
  return runGatewayAction(
    deps,
    ctx,
    id,
    async (_trx, locked, day) => {
      requireCharge(locked.row);
      requireState(locked.row, 'authorize', ['open']);
      return paymentPlan(locked, day, 'authorize');
    },
    recoverAttempt,
    { lockFree: true },
  );
}

/** P2 (open: charge now) and P3 (authorized: capture in full or in part). */
export function captureTransaction(deps: Deps, ctx: RequestContext, id: string, input: { amount?: unknown }) {
  return runGatewayAction(deps, ctx, id, capturePlanner(deps, ctx, input), recoverAttempt, { lockFree: true });
}

/**
 * The capture planner of P2 and P3 (tx1 of captureTransaction), also run for each capture of an order's ensure funds
 * (app/order-servicing.ts) under that order's lock.
 */
export function capturePlanner(deps: Deps, ctx: RequestContext, input: { amount?: unknown }): Planner {
  return async (trx, locked, day): Promise<Plan> => {
    const { row } = locked;
    requireCharge(row);
    requireState(row, 'capture', ['open', 'completed/authorized']);
    const amount = input.amount === undefined ? undefined : parseAmount(input.amount, 'amount', 'positive');
    if (row.status === 'open') {
      if (amount !== undefined && amount !== row.amount) {
        throw new ValidationError(
          'amount_mismatch',
          `An open charge is captured for its own amount (${formatAmount(row.amount, row.currency)}); change the amount with PATCH first, or authorize and capture part of it.`,
          'amount',
        );
      }
      if (row.non_gateway)
        return { kind: 'done', status: 200, transaction: await completeNonGateway(deps, trx, row, ctx.actor) };
      return paymentPlan(locked, day, 'charge');
    }
    const capturable = capturableAmount(row);
    const wanted = amount ?? capturable;
    if (wanted > capturable) {
      throw new ValidationError(
        'amount_exceeds_capturable',
        `The capture of ${formatAmount(wanted, row.currency)} exceeds what the authorization still holds: ${formatAmount(capturable, row.currency)}.`,
        'amount',
      );
    }
    checkStripeAmount(wanted, row.currency, 'amount');
    return {
      kind: 'call',
      transaction: row,
      charge: null,
      action: 'capture',
      request: request(row, { amount: wanted, payment_intent: requireIntent(row) }),
      gateway: gatewayFor(locked),
      revertStatus: 'completed',
      responseStatus: 200,
    };
  };
}

/** P6: an open non-gateway charge is recorded as paid without any gateway call (one compare-and-set). */
async function completeNonGateway(deps: Deps, trx: Trx, row: TransactionRow, actor: string): Promise<TransactionRow> {
  const processing = transition(stateOf(row), 'begin_processing');
  const done = transition(processing, 'capture_succeeded');
  const now = deps.clock.now();
  const saved = await compareAndSetTransaction(
    trx,
    row,
    {
      status: done.status,
      payment_status: done.payment_status,
      authorized_amount: row.amount,
      captured_amount: row.amount,
      processed_at: now,
    },
    actor,
    'captured (non-gateway)',
  );
  if (!saved) throw new RowMoved(row.id);
  return saved;
}

/** P4: release an authorization. */
export function releaseTransaction(deps: Deps, ctx: RequestContext, id: string) {
  return runGatewayAction(
    deps,
    ctx,
    id,
    async (_trx, locked) => {
      requireCharge(locked.row);
      requireState(locked.row, 'release', ['completed/authorized']);
      return releasePlanFor(locked);
    },
    recoverAttempt,
    { lockFree: true },
  );
}

export interface RefundInput {
  amount?: unknown;
  reason?: string | null;
  /** Connect (M6): refund a direct charge's application fee in proportion (app/connect/direct-charges.ts). */
  refund_application_fee?: boolean;
  /** Issue 19 (R4): the invoice the refund is allocated to (one the charge has an allocation to); else newest first. */
  invoice_id?: string | null;
}

/**
 * P5: refund a captured charge in full or in part; the refund is a new transaction (201). On an authorized charge
 * it releases the authorization instead (P4) and returns the charge (200).
 */
export function refundTransaction(deps: Deps, ctx: RequestContext, id: string, input: RefundInput) {
  return runGatewayAction(deps, ctx, id, refundPlanner(deps, ctx, input), recoverAttempt, {
    lockFree: true,
    refundsInFlight: true,
  });
}

/**
 * The refund planner of P5 (tx1 of refundTransaction), also run for each refund of an order's ensure refunds
 * (app/order-servicing.ts) under that order's lock.
 */
export function refundPlanner(deps: Deps, ctx: RequestContext, input: RefundInput): Planner {
  return async (trx, locked): Promise<Plan> => {
    const charge = locked.row;
    // A write-off (P7) is reversed by refunding it: a non-gateway refund, allocated back to its invoice.
    if (charge.record_type !== 'charge' || charge.transaction_type !== 'write_off') requireCharge(charge);
    const amount = input.amount === undefined ? undefined : parseAmount(input.amount, 'amount', 'positive');
    const reason = input.reason ?? null;
    if (reason !== null && !(REFUND_REASONS as readonly string[]).includes(reason)) {
      throw new ValidationError('invalid_reason', `'reason' must be one of: ${REFUND_REASONS.join(', ')}.`, 'reason');
    }
    checkRefundApplicationFee(charge, input.refund_application_fee === true);
    if (charge.status === 'completed' && charge.payment_status === 'authorized') {
      if (amount !== undefined && amount !== capturableAmount(charge)) {
        throw new ValidationError(
          'partial_release_not_supported',
          `Refunding an authorized charge releases the whole authorization (${formatAmount(capturableAmount(charge), charge.currency)}); to keep part of it, capture that part.`,
          'amount',
        );
      }
      return releasePlanFor(locked);
    }
    requireState(charge, 'refund', [...CAPTURED_STATES, 'completed/authorized']);
    // Read with the row when there is no lock (one snapshot), else after the lock: see loadForAction.
    const inFlight = locked.refundsInFlight ?? (await sumRefundsInFlight(trx, charge.id));
    const refundable = refundableAmount(charge, inFlight);
    const wanted = amount ?? refundable;
    if (wanted > refundable || wanted <= 0) {
      const flight =
        inFlight > 0 ? ` (${formatAmount(inFlight, charge.currency)} more is being refunded right now)` : '';
      throw new ValidationError(
        'amount_exceeds_refundable',
        `The refund of ${formatAmount(wanted, charge.currency)} exceeds what can still be refunded on ${charge.id}: ${formatAmount(refundable, charge.currency)}${flight}.`,
        'amount',
      );
    }
    const invoiceId = input.invoice_id ?? null;
    if (invoiceId !== null) await checkRefundInvoice(trx, charge, invoiceId, wanted);
    const refund = await newRefund(deps, trx, locked, wanted, invoiceId);
    if (charge.non_gateway) {
      return {
        kind: 'under_lock',
        run: async (tx) => {
          const inserted = await insertTransaction(tx, refund, ctx.actor, `refund of ${charge.id}`);
          return { status: 201, transaction: await completeNonGatewayRefund(deps, tx, charge, inserted, ctx.actor) };
        },
      };
    }
    if (charge.gateway_id === null) throw new Error(`captured charge ${charge.id} has no gateway`);
    return {
      kind: 'call',
      transaction: { ...refund, metadata: JSON.parse(refund.metadata) } as TransactionRow,
      insert: true,
      charge,
      action: 'refund',
      request: request(charge, {
        amount: wanted,
        payment_intent: requireIntent(charge),
        reason,
        description: null,
        ...(input.refund_application_fee === true ? { refund_application_fee: true } : {}),
      }),
      gateway: gatewayFor(locked),
      revertStatus: 'failed',
      responseStatus: 201,
    };
  };
}

/**
 * The refund transaction, as created open (tx1 then inserts it started, or completes a non-gateway one). Its
 * references are the charge's, checked by the refund planner, so they are not read again.
 */
async function newRefund(
  deps: Deps,
  trx: Trx,
  locked: LockedForAction,
  amount: number,
  invoiceId: string | null = null,
): Promise<NewTransactionRow> {
  const charge = locked.row;
  const { row } = await buildNewTransaction(
    deps,
    trx,
    {
      transaction_type: 'refund',
      amount: -amount,
      currency: charge.currency,
      non_gateway: charge.non_gateway,
      sub_type: charge.sub_type,
      payment_method_id: charge.payment_method_id,
      account_id: charge.account_id,
      contact_id: charge.contact_id,
      parent_id: charge.parent_id,
      original_transaction_id: charge.id,
      description: charge.description,
    },
    { referencesChecked: true },
  );
  return {
    ...row,
    invoice_id: invoiceId,
    gateway_id: charge.gateway_id,
    gateway_payment_intent: charge.gateway_payment_intent,
    gateway_charge: charge.gateway_charge,
  };
}

async function completeNonGatewayRefund(
  deps: Deps,
  trx: Trx,
  charge: TransactionRow,
  refund: TransactionRow,
  actor: string,
): Promise<TransactionRow> {
  const now = deps.clock.now();
  const refunded = charge.refunded_amount - refund.amount;
  const target = {
    status: 'completed' as const,
    payment_status: paymentStatusAfterRefund({ ...charge, refunded_amount: refunded }),
  };
  const next = transition(stateOf(charge), 'refund_applied', target);
  const savedCharge = await compareAndSetTransaction(
    trx,
    charge,
    { refunded_amount: refunded, status: next.status, payment_status: next.payment_status },
    actor,
    `refund ${refund.id} applied (non-gateway)`,
  );
  const done = transition(transition(stateOf(refund), 'begin_processing'), 'refund_succeeded');
  const saved = await compareAndSetTransaction(
    trx,
    refund,
    { status: done.status, payment_status: done.payment_status, processed_at: now },
    actor,
    'refunded (non-gateway)',
  );
  if (!savedCharge || !saved) throw new Error('a row changed under its lock');
  return saved;
}
