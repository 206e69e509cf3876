// Refunds seen at the gateway (W3, P5): each refund of a payment is matched to the ledger. Settle's own refunds
// (our id in their metadata) are recognised, never doubled: a pending one completes, a failed one gives its amount
// back to the charge. A refund made elsewhere (the dashboard) becomes a refund transaction with source `webhook`.
// What Stripe books as refunds when it releases an uncaptured amount (the rest of a partial capture, a canceled or
// an expired authorization) is not money returned to a customer and is skipped.
import { paymentStatusAfterRefund } from '../../domain/amounts.js';
import { stateLabel, stateOf, type TxState } from '../../domain/transaction-state.js';
import type { Db, NewTransactionRow, TransactionRow } from '../../store/schema.js';
import {
  compareAndSetTransaction,
  insertTransaction,
  lockTransaction,
  lockTransactionByGatewayRef,
  type TransactionChanges,
} from '../../store/transactions-repo.js';
import type { GatewayPayment, GatewayRefund } from '../gateway-port.js';
import { newId } from '../ids.js';
import { balanceFields, errorFields, refundMoney, refundOnCharge, stateChange } from '../processing/apply-outcome.js';
import { refundAsOutcome } from '../processing/attempt-call.js';
import { transactionDefaults } from '../transactions/create-transaction.js';
import { resolveInFlight } from './in-flight.js';
import { ApplyFailed, type SyncContext } from './sync-context.js';

/** A refund that only gives back an uncaptured amount (docs/STRIPE.md, "Capture, release and expiry"; W3). */
export function isRelease(refund: GatewayRefund, payment: GatewayPayment): boolean {
  return (
    refund.reason === 'expired_uncaptured_charge' ||
    refund.balance?.reporting_category === 'partial_capture_reversal' ||
    payment.captured_amount === 0
  );
}

async function save(
  trx: Db,
  row: TransactionRow,
  changes: TransactionChanges,
  actor: string,
  action: string,
): Promise<TransactionRow> {
  const saved = await compareAndSetTransaction(trx, row, changes, actor, action);
  if (!saved) throw new Error(`transaction ${row.id} changed under its row lock`);
  return saved;
}

/** Applies every refund of the payment to `charge` (locked by the caller); returns what changed. */
export async function syncRefunds(
  trx: Db,
  ctx: SyncContext,
  charge: TransactionRow,
  payment: GatewayPayment,
  refunds: GatewayRefund[],
): Promise<string[]> {
  const notes: string[] = [];
  let current = charge;
  for (const refund of refunds) {
    if (isRelease(refund, payment)) continue;
    const row =
      refund.transaction_id !== null
        ? await lockTransaction(trx, refund.transaction_id)
        : refund.refs.refund === null
          ? undefined
          : await lockTransactionByGatewayRef(trx, 'gateway_refund', refund.refs.refund);
    let note: string | null;
    if (!row) {
      if (refund.transaction_id !== null) {
        throw new ApplyFailed(
          `The refund ${refund.refs.refund} names Settle transaction ${refund.transaction_id}, which is not in this ledger.`,
          false,
        );
      }
      note = await recordGatewayRefund(trx, ctx, current, refund);
    } else if (row.status === 'process' || row.status === 'needs_review') {
      note = await resolveInFlight(trx, ctx, row, current.id, () => refundAsOutcome(refund));
    } else {
      note = await syncRefundRow(trx, ctx, current, row, refund);
    }
    if (note !== null) {
      notes.push(note);
      current = (await lockTransaction(trx, current.id)) ?? current;
    }
  }
  return notes;
}

/** A refund made outside Settle: a new refund transaction, and its amount taken off the charge. */
async function recordGatewayRefund(
  trx: Db,
  ctx: SyncContext,
  charge: TransactionRow,
  refund: GatewayRefund,
): Promise<string | null> {
  if (refund.status !== 'succeeded' && refund.status !== 'pending') return null; // no money moved
  const label = stateLabel(stateOf(charge));
  const refunded = charge.refunded_amount + refund.amount;
  const target: TxState = {
    status: 'completed',
    payment_status: paymentStatusAfterRefund({ ...charge, refunded_amount: refunded }),
  };
  const chargeChanges = {
    ...stateChange(charge, 'refund_applied', target),
    refunded_amount: refunded,
    ...refundOnCharge(charge, refundMoney(refund.balance), 1),
  };
  const now = ctx.now;
  const succeeded = refund.status === 'succeeded';
  const row = {
    ...transactionDefaults(newId('transaction', now.getTime()), now),
    transaction_type: 'refund',
    status: succeeded ? 'completed' : 'pending',
    payment_status: succeeded ? 'refunded' : null,
    amount: -refund.amount,
    currency: charge.currency,
    payment_method_id: charge.payment_method_id,
    account_id: charge.account_id,
    contact_id: charge.contact_id,
    parent_id: charge.parent_id,
    original_transaction_id: charge.id,
    gateway_id: charge.gateway_id,
    gateway_payment_intent: charge.gateway_payment_intent,
    gateway_charge: charge.gateway_charge,
    gateway_refund: refund.refs.refund,
    source: ctx.source ?? 'webhook',
    processing_mode: charge.processing_mode,
    description: `Refund ${refund.refs.refund ?? ''} made at the gateway${refund.reason ? ` (${refund.reason})` : ''}`,
    processed_at: succeeded ? now : null,
    ...balanceFields(refund.balance),
  } satisfies NewTransactionRow;
  const inserted = await insertTransaction(
    trx,
    row,
    ctx.actor,
    `created from the gateway: refund ${refund.refs.refund} of ${charge.id}`,
  );
  await save(
    trx,
    charge,
    chargeChanges,
    ctx.actor,
    `refund ${inserted.id} applied (made at the gateway, ${refund.status})`,
  );
  return `${inserted.id}: refund ${refund.refs.refund} made at the gateway recorded (${label} -> completed/${target.payment_status})`;
}

/** A known refund the gateway finished later (pending -> succeeded), or that failed after it was taken off the charge. */
export async function syncRefundRow(
  trx: Db,
  ctx: SyncContext,
  charge: TransactionRow,
  row: TransactionRow,
  refund: GatewayRefund,
): Promise<string | null> {
  const label = stateLabel(stateOf(row));
  const balance = balanceFields(refund.balance);
  if (label === 'pending' && refund.status === 'succeeded') {
    await save(
      trx,
      row,
      {
        ...stateChange(row, 'refund_succeeded'),
        gateway_refund: refund.refs.refund,
        ...balance,
        processed_at: ctx.now,
      },
      ctx.actor,
      'refund succeeded at the gateway',
    );
    // M3: a refund that went pending without its balance transaction counts on its charge once it has one.
    if (row.gateway_balance_transaction === null && refund.balance !== null)
      await save(
        trx,
        charge,
        refundOnCharge(charge, refundMoney(refund.balance), 1),
        ctx.actor,
        `refund ${row.id}: balance transaction ${refund.balance.id}`,
      );
    return `${row.id}: refund succeeded at the gateway`;
  }
  if (
    (label === 'pending' || label === 'completed/refunded') &&
    (refund.status === 'failed' || refund.status === 'canceled')
  ) {
    const outcome = refundAsOutcome(refund);
    const error = outcome.kind === 'declined' ? errorFields(outcome.error) : {};
    const event = label === 'pending' ? 'payment_failed' : 'refund_failed';
    await save(
      trx,
      row,
      { ...stateChange(row, event), gateway_refund: refund.refs.refund, ...error, processed_at: ctx.now },
      ctx.actor,
      `refund ${refund.status} at the gateway`,
    );
    // The amount was taken off the charge when the refund succeeded or went pending: it comes back now.
    const refunded = charge.refunded_amount + row.amount; // row.amount is negative
    const back = { ...charge, refunded_amount: refunded };
    const target: TxState = { status: 'completed', payment_status: paymentStatusAfterRefund(back) };
    await save(
      trx,
      charge,
      {
        ...stateChange(charge, 'refund_reversed', target),
        refunded_amount: refunded,
        ...refundOnCharge(
          charge,
          row.net_amount === null ? null : { net: row.net_amount, feeBack: -(row.gateway_fee ?? 0) },
          -1,
        ),
      },
      ctx.actor,
      `refund ${row.id} ${refund.status}: its amount is back`,
    );
    return `${row.id}: refund ${refund.status} at the gateway; ${-row.amount} back on ${charge.id}`;
  }
  return null;
}
