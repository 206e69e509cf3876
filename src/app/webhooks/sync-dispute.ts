// Dispute events (W3, M7): the dispute is read again and kept as a dispute record; the charge shows `disputed` (or
// `dispute_warning`) while it is open and, once closed, the payment status its amounts call for. What the dispute
// withdrew and did not reinstate is the charge's `disputed_amount` (retained = captured - refunded - disputed). Each
// dispute fee (or fee returned) is an `adjustment` transaction of its own, one per balance transaction. Stripe
// withdraws the amount and the fee in one balance transaction when a dispute opens and reinstates the amount (and,
// depending on its policy at the time, the fee) if it is won (docs/STRIPE.md, "Disputes"), so the amounts are read
// from those balance transactions, never assumed.
import { disputesNetOf } from '../../store/balances-repo.js';
import { paymentStatusAfterDispute } from '../../domain/amounts.js';
import {
  stateLabel,
  stateOf,
  type TransactionEvent,
  transition,
  type TxState,
} from '../../domain/transaction-state.js';
import { insertDispute, lockDispute, netDisputed, updateDispute } from '../../store/disputes-repo.js';
import type { Db, DisputeRow, NewTransactionRow, TransactionRow } from '../../store/schema.js';
import {
  compareAndSetTransaction,
  hasAdjustmentFor,
  hasPaymentIntent,
  insertTransaction,
} from '../../store/transactions-repo.js';
import { collectGatewayLogs, insertGatewayLogs } from '../gateway-log.js';
import { isDisputeClosed, WARNING_DISPUTE_STATUSES } from '../../domain/disputes.js';
import type { GatewayDispute } from '../gateway-port.js';
import { newId } from '../ids.js';
import { transactionDefaults } from '../transactions/create-transaction.js';
import { Deferred, lockChargeOfPayment, resultOf, type SyncContext } from './sync-context.js';
import { syncPayment } from './sync-payment.js';

const UNDISPUTED: ReadonlySet<string> = new Set([
  'completed/captured',
  'completed/partially_captured',
  'completed/partially_refunded',
]);

export async function syncDispute(ctx: SyncContext, disputeId: string): Promise<string> {
  const { value: dispute, records } = await collectGatewayLogs(async () =>
    resultOf(await ctx.gateway.retrieveDispute(disputeId), `dispute ${disputeId}`),
  );
  const known = dispute.payment_intent !== null && (await hasPaymentIntent(ctx.deps.db, dispute.payment_intent));
  const prelude: string[] = [];
  // The disputed payment may not be in the ledger yet (an external payment whose events have not come): read it first.
  if (!known && dispute.payment_intent !== null) prelude.push(await syncPayment(ctx, dispute.payment_intent));
  try {
    return await ctx.deps.db.transaction().execute(async (trx) => {
      await insertGatewayLogs(trx, records);
      const charge = await lockChargeOfPayment(trx, null, dispute.payment_intent);
      if (!charge)
        throw new Deferred(
          `The disputed payment ${dispute.payment_intent ?? dispute.charge ?? '?'} is not in the ledger yet.`,
          10_000,
        );
      return [...prelude, await applyDispute(trx, ctx, charge, dispute)].join('; ');
    });
  } catch (error) {
    await insertGatewayLogs(ctx.deps.db, records);
    throw error;
  }
}

/** Withdrawn, reinstated and the fees, from the dispute's balance transactions. */
function disputeAmounts(d: GatewayDispute) {
  let withdrawn = 0;
  let reinstated = 0;
  let fee = 0;
  let feeBack = 0;
  for (const b of d.balances) {
    const principal = b.amount;
    if (principal < 0) withdrawn += -principal;
    else reinstated += principal;
    if (b.gateway_fee > 0) fee += b.gateway_fee;
    else feeBack += -b.gateway_fee;
  }
  return { amount_withdrawn: withdrawn, amount_reinstated: reinstated, fee, fee_reinstated: feeBack };
}

async function upsertDispute(
  trx: Db,
  ctx: SyncContext,
  charge: TransactionRow,
  d: GatewayDispute,
): Promise<DisputeRow> {
  const amounts = disputeAmounts(d);
  const closed = isDisputeClosed(d.status);
  const fields = {
    status: d.status,
    reason: d.reason,
    amount: d.amount,
    currency: d.currency,
    ...amounts,
    evidence_due_by: d.evidence_due_by,
    is_charge_refundable: d.is_charge_refundable,
    updated_at: ctx.now,
  };
  const existing = await lockDispute(trx, ctx.gatewayRow.id, d.id);
  if (existing) {
    const closedAt = closed ? (existing.closed_at ?? ctx.now) : null;
    // A read that says what the record says changes nothing (a backfill run twice, a duplicate event; W6).
    const same =
      (Object.keys(fields) as (keyof typeof fields)[]).every(
        (k) => k === 'updated_at' || String(existing[k]) === String(fields[k]),
      ) && String(existing.closed_at) === String(closedAt);
    if (same) return existing;
    return updateDispute(trx, existing.id, { ...fields, closed_at: closedAt, version: existing.version + 1 });
  }
  return insertDispute(trx, {
    id: newId('dispute', ctx.now.getTime()),
    gateway_id: ctx.gatewayRow.id,
    gateway_dispute: d.id,
    transaction_id: charge.id,
    ...fields,
    gateway_created_at: d.created,
    closed_at: closed ? ctx.now : null,
    created_at: ctx.now,
  });
}

/** Applies a dispute as read to its charge (locked by the caller), without reading the gateway (W3, W6). */
export async function applyDispute(
  trx: Db,
  ctx: SyncContext,
  charge: TransactionRow,
  d: GatewayDispute,
): Promise<string> {
  const record = await upsertDispute(trx, ctx, charge, d);
  const disputed = Math.max(
    0,
    Math.min(await netDisputed(trx, charge.id), charge.captured_amount - charge.refunded_amount),
  );
  const label = stateLabel(stateOf(charge));
  const warning = WARNING_DISPUTE_STATUSES.has(d.status) || d.status === 'warning_closed';
  const opening: TransactionEvent = warning ? 'dispute_warning_opened' : 'dispute_opened';
  let next: TxState | null = null;
  if (!isDisputeClosed(d.status) && UNDISPUTED.has(label)) next = transition(stateOf(charge), opening);
  else if (isDisputeClosed(d.status)) {
    // Closed. Read after the close, the dispute may never have been seen open: it opens and closes in one change.
    const from = UNDISPUTED.has(label)
      ? transition(stateOf(charge), opening)
      : label === 'completed/disputed' || label === 'completed/dispute_warning'
        ? stateOf(charge)
        : null;
    if (from !== null) {
      next = transition(from, 'dispute_closed', {
        status: 'completed',
        payment_status: paymentStatusAfterDispute({ ...charge, disputed_amount: disputed }),
      });
    }
  }
  const changes = {
    disputed_amount: disputed,
    // M3: the net of the charge's dispute balance transactions, for its retained_net_amount.
    disputes_net_amount: await disputesNetOf(trx, charge.id),
    ...(next ? { status: next.status, payment_status: next.payment_status } : {}),
  };
  const saved = await compareAndSetTransaction(
    trx,
    charge,
    changes,
    ctx.actor,
    `dispute ${record.id} (${d.id}) ${d.status}`,
  );
  if (!saved) throw new Error(`transaction ${charge.id} changed under its row lock`);
  const fees = await recordFeeAdjustments(trx, ctx, charge, record, d);
  return `${record.id}: dispute ${d.id} ${d.status}; ${charge.id} ${stateLabel(stateOf(saved))}, disputed ${disputed}${fees > 0 ? `; ${fees} fee adjustment(s)` : ''}`;
}

/** One adjustment transaction per dispute balance transaction with a fee (a fee withdrawn is negative). */
async function recordFeeAdjustments(
  trx: Db,
  ctx: SyncContext,
  charge: TransactionRow,
  record: DisputeRow,
  d: GatewayDispute,
): Promise<number> {
  let created = 0;
  for (const b of d.balances) {
    if (b.gateway_fee === 0) continue;
    if (await hasAdjustmentFor(trx, b.id)) continue;
    const row = {
      ...transactionDefaults(newId('transaction', ctx.now.getTime()), ctx.now),
      record_type: 'adjustment',
      status: 'completed',
      payment_status: 'captured',
      amount: -b.gateway_fee,
      currency: b.currency,
      authorized_amount: 0,
      captured_amount: 0,
      original_transaction_id: charge.id,
      account_id: charge.account_id,
      contact_id: charge.contact_id,
      parent_id: charge.parent_id,
      // The invoice's totals count the fee with the charge's (an adjustment is never allocated).
      invoice_id: charge.invoice_id,
      gateway_id: charge.gateway_id,
      gateway_payment_intent: charge.gateway_payment_intent,
      gateway_charge: charge.gateway_charge,
      gateway_balance_transaction: b.id,
      source: ctx.source ?? 'webhook',
      processing_mode: charge.processing_mode,
      // M3, M5: the dispute balance transaction's fee and net (the disputed amount and the fee), as the gateway gave.
      gateway_fee: b.gateway_fee,
      net_amount: b.net_amount,
      settlement_currency: b.currency,
      settlement_amount: b.amount,
      exchange_rate: b.exchange_rate,
      balance_status: b.balance_status,
      available_on: b.available_on.toISOString().slice(0, 10),
      description: `${b.gateway_fee > 0 ? 'Dispute fee' : 'Dispute fee returned'} for ${d.id} (${record.id})`,
      processed_at: ctx.now,
    } satisfies NewTransactionRow;
    await insertTransaction(trx, row, ctx.actor, `dispute ${record.id}: ${b.gateway_fee > 0 ? 'fee' : 'fee returned'}`);
    created += 1;
  }
  return created;
}
