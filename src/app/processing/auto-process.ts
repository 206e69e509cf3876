// Auto-processing (S1): what the scheduled jobs do to one transaction. Each is the ordinary exactly-once action
// (run-action.ts), with the job's selection rule checked again under the row lock: between the job's selection and
// the action, a person may have put the transaction on hold, moved its date or switched auto-process off, and the
// row as it is now decides. A transaction that no longer qualifies is left alone (NotEligible).
import { refundableAmount } from '../../domain/amounts.js';
import { ConflictError, ValidationError } from '../../domain/errors.js';
import { checkStripeAmount, formatAmount } from '../../domain/money.js';
import type { TransactionRow } from '../../store/schema.js';
import { lockTransaction, sumRefundsInFlight } from '../../store/transactions-repo.js';
import type { Deps, RequestContext } from '../deps.js';
import { requireGateway } from '../gateway-records.js';
import { paymentPlan, request, requireCharge } from './actions.js';
import { recoverAttempt } from './recover.js';
import { type Plan, requireState, runGatewayAction } from './run-action.js';

/**
 * "Due" as the jobs read it (README, "Scheduled jobs"): on date_to_process when set, else due_date; <= today, or =
 * today only.
 */
export interface DueRule {
  day: string;
  dueTodayOnly: boolean;
}

export function dueDateOf(row: Pick<TransactionRow, 'date_to_process' | 'due_date'>): string | null {
  return row.date_to_process ?? row.due_date;
}

export function isDue(row: Pick<TransactionRow, 'date_to_process' | 'due_date'>, rule: DueRule): boolean {
  const due = dueDateOf(row);
  if (due === null) return false;
  return rule.dueTodayOnly ? due === rule.day : due <= rule.day;
}

/** The transaction no longer meets the job's rule (changed since it was selected): not an error, nothing done. */
export class NotEligible extends ConflictError {
  constructor(id: string, why: string) {
    super('not_eligible', `Transaction ${id} is no longer due for this job: ${why}.`);
  }
}

function requireAutoDue(row: TransactionRow, rule: DueRule, flagged = row.auto_process): void {
  if (!flagged) throw new NotEligible(row.id, 'auto_process is off');
  if (row.non_gateway) throw new NotEligible(row.id, 'it is non_gateway');
  if (!isDue(row, rule))
    throw new NotEligible(
      row.id,
      `it is due on ${dueDateOf(row) ?? 'no date'}, not ${rule.dueTodayOnly ? 'on' : 'by'} ${rule.day}`,
    );
}

function requireOpen(row: TransactionRow): void {
  if (row.status !== 'open') throw new NotEligible(row.id, `its status is ${row.status}`);
}

/**
 * daily_charges: an open auto-process charge that is due is charged now, or authorized when its `authorize` flag
 * is set (P11), off-session: the customer is not there, so a card whose issuer insists on authentication ends in
 * `pending_payment_intent` (apply-outcome.ts) rather than failed.
 */
export function autoChargeTransaction(deps: Deps, ctx: RequestContext, id: string, rule: DueRule) {
  return runGatewayAction(
    deps,
    ctx,
    id,
    async (_trx, locked, day): Promise<Plan> => {
      const { row } = locked;
      requireCharge(row);
      requireOpen(row);
      requireAutoDue(row, rule);
      return paymentPlan(locked, day, row.authorize ? 'authorize' : 'charge', true);
    },
    recoverAttempt,
    { lockFree: true },
  );
}

/** capture_authorized: an authorized charge that is due (auto_process, or its `capture` flag) is captured in full. */
export function autoCaptureTransaction(deps: Deps, ctx: RequestContext, id: string, rule: DueRule) {
  return runGatewayAction(
    deps,
    ctx,
    id,
    async (_trx, locked): Promise<Plan> => {
      const { row } = locked;
      requireCharge(row);
      if (row.status !== 'completed' || row.payment_status !== 'authorized')
        throw new NotEligible(row.id, `it is ${row.status}/${row.payment_status ?? '-'}`);
      requireAutoDue(row, rule, row.auto_process || row.capture);
      if (row.gateway_payment_intent === null)
        throw new Error(`transaction ${row.id} is authorized but has no payment intent`);
      const amount = row.authorized_amount - row.captured_amount;
      checkStripeAmount(amount, row.currency, 'amount');
      if (!locked.gateway) throw new Error(`transaction ${row.id} has no gateway`);
      return {
        kind: 'call',
        transaction: row,
        charge: null,
        action: 'capture',
        request: request(row, { amount, payment_intent: row.gateway_payment_intent }),
        gateway: locked.gateway,
        revertStatus: 'completed',
        responseStatus: 200,
      };
    },
    recoverAttempt,
    { lockFree: true },
  );
}

/**
 * scheduled_refunds: an open auto-process refund transaction that is due (negative amount, its original charge set,
 * and the original's payment method) is sent to the gateway against the original's payment. Its amount counts
 * against what the original can still give back, refunds in flight included; more than that is refused and the
 * refund stays open for someone to correct. Locks the original after the refund row: no other path locks a refund
 * row while holding its charge before this refund has started, so the two orders never meet.
 */
export function processScheduledRefund(deps: Deps, ctx: RequestContext, id: string, rule: DueRule) {
  return runGatewayAction(
    deps,
    ctx,
    id,
    async (trx, locked): Promise<Plan> => {
      const { row } = locked;
      if (row.record_type !== 'charge' || row.transaction_type !== 'refund') {
        throw new ValidationError(
          'not_a_refund',
          `Transaction ${row.id} is a ${row.record_type} of type ${row.transaction_type}, not a refund.`,
          'id',
        );
      }
      requireOpen(row);
      requireAutoDue(row, rule);
      if (row.amount >= 0) throw new NotEligible(row.id, 'a refund has a negative amount');
      if (row.original_transaction_id === null) throw new NotEligible(row.id, 'original_transaction_id is not set');
      const charge = await lockTransaction(trx, row.original_transaction_id);
      if (!charge) throw new Error(`refund ${row.id} refers to a missing original ${row.original_transaction_id}`);
      if (charge.payment_method_id !== row.payment_method_id) {
        throw new NotEligible(
          row.id,
          `its payment method is not the original's (${charge.payment_method_id ?? 'none'})`,
        );
      }
      requireCharge(charge);
      requireState(charge, 'refund', [
        'completed/captured',
        'completed/partially_captured',
        'completed/partially_refunded',
      ]);
      if (charge.non_gateway || charge.gateway_id === null || charge.gateway_payment_intent === null) {
        throw new ValidationError(
          'not_refundable_at_gateway',
          `The original ${charge.id} was not paid through a gateway; record its refund with POST /v1/transactions/${charge.id}/refund.`,
          'original_transaction_id',
        );
      }
      if (charge.currency !== row.currency) {
        throw new ValidationError(
          'currency_mismatch',
          `The refund is in ${row.currency.toUpperCase()} but its original ${charge.id} in ${charge.currency.toUpperCase()}.`,
          'currency',
        );
      }
      const wanted = -row.amount;
      const refundable = refundableAmount(charge, await sumRefundsInFlight(trx, charge.id));
      if (wanted > refundable) {
        throw new ValidationError(
          'amount_exceeds_refundable',
          `The refund of ${formatAmount(wanted, row.currency)} exceeds what can still be refunded on ${charge.id}: ${formatAmount(refundable, charge.currency)}.`,
          'amount',
        );
      }
      const gateway = await requireGateway({ db: trx }, charge.gateway_id);
      return {
        kind: 'call',
        transaction: row,
        charge,
        action: 'refund',
        request: request(charge, {
          amount: wanted,
          payment_intent: charge.gateway_payment_intent,
          reason: null,
          description: null,
        }),
        gateway,
        revertStatus: 'open',
        responseStatus: 200,
      };
    },
    recoverAttempt,
  );
}
